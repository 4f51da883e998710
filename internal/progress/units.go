package progress

import (
	"fmt"
	"strings"
)

var siUnits = [...]string{"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"}

// HumanSize formats a byte count the way docker does (go-units HumanSize):
// SI units (1 kB = 1000 B), four significant digits, no space:
// 0 → "0B", 1000 → "1kB", 45.6e6 → "45.6MB".
func HumanSize(size float64) string {
	i := 0
	for size >= 1000 && i < len(siUnits)-1 {
		size /= 1000
		i++
	}
	return fmt.Sprintf("%.4g%s", size, siUnits[i])
}

// barWidth is the number of cells between the brackets of a bar.
const barWidth = 50

// bar draws "[====>     ]" for current of total; total must be > 0.
func bar(current, total int64) string {
	filled := int(float64(current) / float64(total) * barWidth)
	filled = min(max(filled, 0), barWidth)
	return "[" + strings.Repeat("=", filled) + ">" + strings.Repeat(" ", barWidth-filled) + "]"
}

// counts draws "  12.3MB/45.6MB": the current size right-aligned in 8
// columns, then the total when it is known and not exceeded.
func counts(current, total int64) string {
	cur := HumanSize(float64(max(current, 0)))
	if total <= 0 || current > total {
		return fmt.Sprintf("%8s", cur)
	}
	return fmt.Sprintf("%8s/%s", cur, HumanSize(float64(total)))
}
