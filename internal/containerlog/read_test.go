package containerlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
)

var drivers = []string{DriverK8sFile, DriverJSONFile}

func read(t *testing.T, path, driver string, opts Options) (string, string) {
	t.Helper()
	var o, e bytes.Buffer
	if err := Read(context.Background(), path, driver, opts, &o, &e); err != nil {
		t.Fatalf("Read %+v: %v", opts, err)
	}
	return o.String(), e.String()
}

func check(t *testing.T, l *testLog, opts Options) {
	t.Helper()
	o, e := read(t, l.path, l.driver, opts)
	wo, we := l.want(opts)
	if o != wo {
		t.Errorf("%+v: stdout\n got %q\nwant %q", opts, clip(o), clip(wo))
	}
	if e != we {
		t.Errorf("%+v: stderr\n got %q\nwant %q", opts, clip(e), clip(we))
	}
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:300] + " … " + s[len(s)-300:]
	}
	return s
}

// script writes a deterministic mix: both streams, full lines, chunks of
// several lines, partial records, empty lines and awkward bytes.
func script(l *testLog, n int, seed int64) {
	rnd := rand.New(rand.NewSource(seed))
	words := []string{"plain", `"quoted"`, `back\slash`, "tab\there", "ctl\x01", "ünïcødé €", "<&>", "", "cr\r"}
	for i := 0; i < n; i++ {
		stream := "stdout"
		if rnd.Intn(3) == 0 {
			stream = "stderr"
		}
		var b strings.Builder
		for range rnd.Intn(3) + 1 {
			fmt.Fprintf(&b, "%s %d %s\n", stream, i, words[rnd.Intn(len(words))])
		}
		if rnd.Intn(4) == 0 {
			b.WriteString("partial-" + strconv.Itoa(i)) // continued by the next chunk of the stream
		}
		l.write(stream, b.String())
	}
}

func TestRead(t *testing.T) {
	for _, driver := range drivers {
		for _, maxSize := range []int64{0, 300} {
			t.Run(fmt.Sprintf("%s/max-size=%d", driver, maxSize), func(t *testing.T) {
				l := newTestLog(t, filepath.Join(t.TempDir(), "ctr.log"), driver, maxSize, 100000)
				script(l, 400, 1)
				if maxSize > 0 && l.rotated < 50 {
					t.Fatalf("only %d rotations", l.rotated)
				}
				total := 0
				for _, r := range l.recs {
					if !r.partial {
						total++
					}
				}
				since, until := epoch.Add(200*time.Millisecond), epoch.Add(500*time.Millisecond)
				for _, opts := range []Options{
					{Tail: -1},
					{Tail: -1, Timestamps: true},
					{Tail: 0},
					{Tail: 1}, {Tail: 2}, {Tail: 3}, {Tail: 7}, {Tail: 50}, {Tail: 333},
					{Tail: total - 1}, {Tail: total}, {Tail: total + 1}, {Tail: 1 << 30},
					{Tail: -1, Since: since},
					{Tail: -1, Until: until},
					{Tail: -1, Since: since, Until: until, Timestamps: true},
					{Tail: 5, Since: since, Until: until},
					{Tail: 5, Until: until},
					{Tail: 10000, Since: since},
					{Tail: -1, Since: epoch.Add(time.Hour)},
					{Tail: 3, Until: epoch.Add(-time.Hour)},
				} {
					check(t, l, opts)
				}
			})
		}
	}
}

func TestReadJoinsPartialRecords(t *testing.T) {
	for _, driver := range drivers {
		t.Run(driver, func(t *testing.T) {
			l := newTestLog(t, filepath.Join(t.TempDir(), "ctr.log"), driver, 0, 0)
			l.write("stdout", "hel")
			l.write("stderr", "err ")
			l.write("stdout", "lo")
			l.write("stderr", "one\n")
			l.write("stdout", " world\nnext")
			o, e := read(t, l.path, driver, Options{Tail: -1, Timestamps: true})
			wantO := "2024-05-06T07:08:09.000000000Z hello world\n2024-05-06T07:08:09.005000000Z next"
			wantE := "2024-05-06T07:08:09.001000000Z err one\n"
			if o != wantO || e != wantE {
				t.Errorf("got %q, %q\nwant %q, %q", o, e, wantO, wantE)
			}
			// Lines in the order they begin: stdout "hello world", stderr
			// "err one", stdout "next".
			for n, want := range [][2]string{
				{"", ""},
				{"next", ""},
				{"next", "err one\n"},
				{"hello world\nnext", "err one\n"},
			} {
				o, e := read(t, l.path, driver, Options{Tail: n})
				if o != want[0] || e != want[1] {
					t.Errorf("tail %d: %q, %q, want %q, %q", n, o, e, want[0], want[1])
				}
			}
		})
	}
}

func TestReadSkipsGarbage(t *testing.T) {
	for _, driver := range drivers {
		t.Run(driver, func(t *testing.T) {
			dir := t.TempDir()
			l := newTestLog(t, filepath.Join(dir, "ctr.log"), driver, 200, 100)
			l.write("stdout", "one\n")
			l.raw("junk without a record\n")
			l.raw("\n")
			l.raw(strings.Repeat("\x00", 100) + "\n")
			l.raw("2024-05-06T07:08:09.000000000Z stdout X bad tag\n")
			l.raw("2024-05-06T07:08:09.000000000Z stdin F bad stream\n")
			l.raw("notatime stdout F bad time\n")
			l.raw(`{"log":"no stream\n","time":"2024-05-06T07:08:09Z"}` + "\n")
			l.raw(`{"log":"bad time\n","stream":"stdout","time":"yesterday"}` + "\n")
			l.raw(`{"log":"bad escape \q","stream":"stdout","time":"2024-05-06T07:08:09Z"}` + "\n")
			l.write("stderr", "two\n")
			for i := range 20 {
				l.write("stdout", fmt.Sprintf("line %d\n", i))
			}
			l.raw("2024-05-06T07:08:09.000000000Z stdout F torn by a cra") // the crash
			check(t, l, Options{Tail: -1})
			check(t, l, Options{Tail: 1})
			check(t, l, Options{Tail: 21})
			check(t, l, Options{Tail: 22})
			// Junk at the top of a rotated file too.
			old := l.path + ".1"
			b, err := os.ReadFile(old)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(old, append([]byte("e stdout F the end of a torn record\n"), b...), 0o640); err != nil {
				t.Fatal(err)
			}
			check(t, l, Options{Tail: -1})
			check(t, l, Options{Tail: 20})
		})
	}
}

func TestReadLongLine(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	for _, driver := range drivers {
		t.Run(driver, func(t *testing.T) {
			dir := t.TempDir()
			// As one record (another writer may do that)…
			l := newTestLog(t, filepath.Join(dir, "one.log"), driver, 0, 0)
			l.write("stdout", "before\n")
			l.write("stdout", big+"\n")
			l.write("stderr", "after\n")
			check(t, l, Options{Tail: -1})
			check(t, l, Options{Tail: 2})
			o, _ := read(t, l.path, driver, Options{Tail: 2})
			if len(o) != len(big)+1 {
				t.Errorf("tail 2: %d bytes of stdout", len(o))
			}
			// …and as the monitor writes it: 8 KiB reads, partial records.
			l = newTestLog(t, filepath.Join(dir, "chunks.log"), driver, 64<<10, 100)
			s := big + "\n"
			for len(s) > 0 {
				n := min(8192, len(s))
				l.write("stdout", s[:n])
				s = s[n:]
			}
			l.write("stdout", "after\n")
			check(t, l, Options{Tail: -1})
			check(t, l, Options{Tail: 2})
			check(t, l, Options{Tail: 1, Timestamps: true})
		})
	}
}

func TestReadMissingAndEmpty(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "never.log")
	for _, opts := range []Options{{Tail: -1}, {Tail: 3}, {Tail: -1, Follow: true, Done: func() bool { return true }}} {
		if o, e := read(t, missing, DriverK8sFile, opts); o != "" || e != "" {
			t.Errorf("missing log: %q %q", o, e)
		}
	}
	empty := filepath.Join(dir, "empty.log")
	if err := os.WriteFile(empty, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	for _, driver := range drivers {
		if o, e := read(t, empty, driver, Options{Tail: 3}); o != "" || e != "" {
			t.Errorf("empty log: %q %q", o, e)
		}
	}
	err := Read(context.Background(), missing, DriverNone, Options{Tail: -1}, nil, nil)
	if !errors.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), "log driver none") {
		t.Errorf("driver none: %v", err)
	}
	if err := Read(context.Background(), empty, "syslog", Options{Tail: -1}, nil, nil); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("driver syslog: %v", err)
	}
	// An unreadable log is an error, not an empty one.
	if os.Geteuid() != 0 {
		if err := os.Chmod(empty, 0); err != nil {
			t.Fatal(err)
		}
		if err := Read(context.Background(), empty, DriverK8sFile, Options{Tail: -1}, nil, nil); err == nil {
			t.Error("unreadable log: no error")
		}
	}
}

// A Read sees the log as it is when it is called, even if the files rotate
// while it reads them.
func TestReadWhileRotating(t *testing.T) {
	for _, driver := range drivers {
		t.Run(driver, func(t *testing.T) {
			l := newTestLog(t, filepath.Join(t.TempDir(), "ctr.log"), driver, 256, 1000)
			for i := range 300 {
				l.write("stdout", fmt.Sprintf("before %d\n", i))
			}
			wantO, _ := l.want(Options{Tail: -1})
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					l.write("stderr", fmt.Sprintf("during %d\n", i))
					time.Sleep(100 * time.Microsecond)
				}
			}()
			for range 20 {
				o, _ := read(t, l.path, driver, Options{Tail: -1})
				if o != wantO {
					t.Errorf("stdout:\n got %q\nwant %q", clip(o), clip(wantO))
					break
				}
			}
			close(stop)
			<-done
			check(t, l, Options{Tail: -1})
		})
	}
}

// A "line" longer than any record (maxRecord) is junk: skipped without
// being held in memory, forwards and backwards.
func TestReadSkipsOversizedJunk(t *testing.T) {
	l := newTestLog(t, filepath.Join(t.TempDir(), "ctr.log"), DriverK8sFile, 0, 0)
	l.write("stdout", "before\n")
	l.raw(strings.Repeat("j", maxRecord+chunkSize+1) + "\n")
	l.write("stdout", "after\n")
	check(t, l, Options{Tail: -1})
	check(t, l, Options{Tail: 1})
	check(t, l, Options{Tail: 2})
}

// json-file records that are not the monitor's own shape (docker's attrs,
// another key order, raw invalid UTF-8) go through encoding/json.
func TestReadJSONOtherShapes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctr.log")
	recs := `{"log":"with attrs\n","stream":"stderr","attrs":{"tag":"x"},"time":"2024-05-06T07:08:09.1Z"}
{"time":"2024-05-06T07:08:09.2Z","stream":"stdout","log":"keys reordered\n"}
{"log":"bad ` + "\xff" + ` utf-8\n","stream":"stdout","time":"2024-05-06T07:08:09.3Z"}
{"log":"surrogates \ud83d\ude00 \u00e9\n","stream":"stdout","time":"2024-05-06T07:08:09.4Z"}
`
	if err := os.WriteFile(path, []byte(recs), 0o640); err != nil {
		t.Fatal(err)
	}
	o, e := read(t, path, DriverJSONFile, Options{Tail: -1, Timestamps: true})
	wantO := "2024-05-06T07:08:09.200000000Z keys reordered\n" +
		"2024-05-06T07:08:09.300000000Z bad \ufffd utf-8\n" +
		"2024-05-06T07:08:09.400000000Z surrogates 😀 é\n"
	wantE := "2024-05-06T07:08:09.100000000Z with attrs\n"
	if o != wantO || e != wantE {
		t.Errorf("got %q, %q\nwant %q, %q", o, e, wantO, wantE)
	}
}
