package monitor

import (
	"bufio"
	"encoding/json"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rebuild reads the log files of path (oldest first) and returns what
// stream wrote, from its records.
func rebuild(t *testing.T, path, driver string, maxFiles int) (string, []string) {
	t.Helper()
	var files []string
	for i := maxFiles - 1; i >= 1; i-- {
		if _, err := os.Stat(path + "." + strconv.Itoa(i)); err == nil {
			files = append(files, path+"."+strconv.Itoa(i))
		}
	}
	files = append(files, path)
	var b strings.Builder
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if driver == DriverJSONFile {
				var r struct{ Log, Stream, Time string }
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("%s: %q: %v", p, line, err)
				}
				if _, err := time.Parse(time.RFC3339Nano, r.Time); err != nil || r.Stream != "stdout" {
					t.Fatalf("%s: %q", p, line)
				}
				b.WriteString(r.Log)
				continue
			}
			parts := strings.SplitN(line, " ", 4)
			if len(parts) != 4 || parts[1] != "stdout" {
				t.Fatalf("%s: %q", p, line)
			}
			if _, err := time.Parse(k8sTime, parts[0]); err != nil {
				t.Fatalf("%s: %q: %v", p, line, err)
			}
			b.WriteString(parts[3])
			switch parts[2] {
			case "F":
				b.WriteByte('\n')
			case "P":
			default:
				t.Fatalf("%s: %q", p, line)
			}
		}
		f.Close()
	}
	return b.String(), files
}

func TestLogFileChunks(t *testing.T) {
	var want strings.Builder
	for i := 1; i <= 20000; i++ {
		want.WriteString(strconv.Itoa(i) + "\n")
	}
	want.WriteString("tail without newline, \"quoted\" \\ \t\x01 ünïcode")
	data := []byte(want.String())
	for _, driver := range []string{DriverK8sFile, DriverJSONFile} {
		for _, maxFiles := range []int{0, 1000} {
			t.Run(driver+"/"+strconv.Itoa(maxFiles), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "ctr.log")
				l, err := openLogFile(LogConfig{Path: path, Driver: driver, MaxSize: 4096, MaxFiles: maxFiles}, func(err error) { t.Error(err) })
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewSource(1))
				for p := data; len(p) > 0; {
					n := min(len(p), 1+rng.Intn(chunkSize))
					l.Write(streamStdout, p[:n], time.Now())
					p = p[n:]
				}
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				got, files := rebuild(t, path, driver, max(maxFiles, 1))
				for _, f := range files {
					if st, _ := os.Stat(f); st.Size() > 4096 {
						t.Errorf("%s: %d bytes", f, st.Size())
					}
				}
				if maxFiles > 1 {
					if got != want.String() {
						i := 0
						for i < len(got) && i < len(want.String()) && got[i] == want.String()[i] {
							i++
						}
						t.Fatalf("rebuilt output differs at byte %d: %q", i, got[max(0, i-20):min(len(got), i+20)])
					}
				} else if !strings.HasSuffix(want.String(), got) || len(files) != 1 {
					t.Errorf("max-file 1: %d files, kept output not a suffix", len(files))
				}
			})
		}
	}
}

func TestLogFileWriteError(t *testing.T) {
	dir := t.TempDir()
	var errs []error
	l, err := openLogFile(LogConfig{Path: filepath.Join(dir, "ctr.log"), MaxSize: 10, MaxFiles: 2}, func(err error) { errs = append(errs, err) })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Write(streamStdout, []byte("first line\n"), time.Now())
	// Rotation cannot rename into a directory that is gone: the write is
	// dropped, reported once, and writing goes on when it can.
	if err := os.Mkdir(filepath.Join(dir, "ctr.log.1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ctr.log.1", "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l.Write(streamStdout, []byte("a\nb\n"), time.Now())
	if len(errs) != 1 {
		t.Fatalf("%d errors reported, want 1: %v", len(errs), errs)
	}
	if !errors.Is(errs[0], os.ErrExist) && !strings.Contains(errs[0].Error(), "ctr.log") {
		t.Errorf("error %v does not name the log", errs[0])
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"plain", "q\"b\\", "\n\r\t\x00\x1f", "ünï", "bad \xff utf8", "<&>"} {
		got := appendJSONString(nil, []byte(s))
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q → %s: %v", s, got, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if back != want {
			t.Errorf("%q → %s → %q", s, got, back)
		}
	}
}
