package containerlog

// A line of a stream is its records from one that follows a full record
// (or begins the log) up to the next full record of the same stream; the
// other stream's records may come in between. A line's time is the time of
// its first record. Tail keeps the last N lines, by where they begin, of
// those in the time window.

// start is where the forward read begins and in what state.
type start struct {
	file int   // index in the chain, oldest first
	off  int64 // offset in that file
	// begins reports, per stream, that its next record begins a line (if
	// not, the records up to its next full record end a line that is not
	// shown).
	begins [2]bool
	// skip is how many lines (in the window) to pass over first.
	skip int
}

// resolveLimit bounds how many records the tail looks back for the last
// record of a stream before its cut (a stream silent for that long is
// taken to have ended its last line).
const resolveLimit = 8192

// backIter walks the records of the chain backwards, from end in the
// newest file.
type backIter struct {
	files []*logFile
	end   int64
	p     parser
	i     int
	sc    *backScanner
}

func (it *backIter) prev() (r record, file int, off int64, ok bool, err error) {
	for {
		if it.sc == nil {
			if it.i < 0 {
				return r, 0, 0, false, nil
			}
			end := it.end
			if it.i < len(it.files)-1 {
				fi, err := it.files[it.i].f.Stat()
				if err != nil {
					return r, 0, 0, false, err
				}
				end = fi.Size()
			}
			it.sc = newBackScanner(it.files[it.i].f, end)
		}
		line, off, ok, err := it.sc.prev()
		if err != nil {
			return r, 0, 0, false, err
		}
		if !ok {
			it.sc = nil
			it.i--
			continue
		}
		if r, ok := it.p.parse(line); ok {
			return r, it.i, off, true, nil
		}
	}
}

// tailStart finds where to read from to show the last n lines in the
// window of the chain's files, up to end in the newest one.
func (rd *reader) tailStart(files []*logFile, end int64, n int) (start, error) {
	beginning := start{begins: [2]bool{true, true}}
	if n < 0 || len(files) == 0 {
		return beginning, nil
	}
	it := &backIter{files: files, end: end, p: parser{json: rd.json}, i: len(files) - 1}
	// pending[s]: the earliest record of s seen so far, which begins a
	// line if the record of s before it is full.
	var pending [2]struct{ seen, inWindow bool }
	count := 0
	cut := start{file: len(files) - 1, off: end}
	cutStream := -1
	for n > 0 && cutStream < 0 {
		r, file, off, ok, err := it.prev()
		if err != nil {
			return start{}, err
		}
		if !ok {
			for _, p := range pending {
				if p.seen && p.inWindow {
					count++
				}
			}
			beginning.skip = max(0, count-n)
			return beginning, nil
		}
		s := r.stream
		if !r.partial && pending[s].seen && pending[s].inWindow {
			count++
			if count == n {
				cut.file, cut.off, cutStream = file, off, s
				break
			}
		}
		pending[s].seen, pending[s].inWindow = true, rd.inWindow(r.time)
	}
	// The cut is at a full record of cutStream, which ends a line before
	// those kept. Each other stream's state at the cut is that of its last
	// record before it.
	var resolved [2]bool
	if cutStream >= 0 {
		resolved[cutStream] = true
	}
	for looked := 0; !(resolved[0] && resolved[1]) && looked < resolveLimit; looked++ {
		r, _, _, ok, err := it.prev()
		if err != nil {
			return start{}, err
		}
		if !ok {
			break
		}
		if !resolved[r.stream] {
			resolved[r.stream] = true
			cut.begins[r.stream] = !r.partial
		}
	}
	for s := range cut.begins {
		if !resolved[s] {
			cut.begins[s] = true
		}
		if s != cutStream && cut.begins[s] && pending[s].seen && pending[s].inWindow {
			cut.skip++ // one more line than the count, the earliest goes
		}
	}
	return cut, nil
}
