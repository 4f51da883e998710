// Package containerlog reads the container logs that berth-monitor writes
// (see internal/monitor, "Logs"): `berth logs` with -f, --since, --until,
// --tail and -t.
//
// A log is a chain of files, oldest first path.N … path.1, then path, each
// holding whole records of one driver:
//
//	k8s-file   2006-01-02T15:04:05.000000000Z07:00 stdout F a full line
//	           2006-01-02T15:04:05.000000000Z07:00 stderr P a partial li
//	json-file  {"log":"a full line\n","stream":"stdout","time":"2006-01-02T15:04:05.999999999Z"}
//
// A partial record is continued by the next record of the same stream; Read
// joins them, so each stream gets back exactly the bytes the container
// wrote to it. Lines that are not records (junk, a write torn by a crash)
// are skipped.
//
// Tail reads backwards from the end of the newest file, in chunks, going to
// older files only as far as the lines asked for: its cost is that of the
// lines shown, not of the log (plus up to 8192 records more, looking for
// where a silent stream's last line stands; and with Since or Until, of the
// lines outside the window it passes over). A tail of 10 lines of a 100 MB
// log takes about a millisecond (BenchmarkTail100MB).
//
// Follow polls (PollInterval). The monitor rotates by renaming path to
// path.1 (after closing it) and creating path again; the reader holds its
// file open and knows it by inode, so when path is another file it reads
// its own to the end and then opens the file written after it — found in
// the chain by inode, however many rotations happened in between. No record
// is lost, repeated or split, as long as a file is not rotated away (past
// max-file) before the reader reaches it; a log of one file emptied in
// place (max-file 1) is read again from its top.
//
// # Example (the engine's side of `berth logs -f --tail 10`)
//
//	err := containerlog.Read(ctx, cfg.Log.Path, cfg.Log.Driver, containerlog.Options{
//		Tail:   10,
//		Follow: true,
//		Done:   func() bool { _, err := os.Stat(cfg.ExitFile); return err == nil },
//	}, os.Stdout, os.Stderr)
//
// The engine refuses a container whose driver is "none" before it gets
// here (Read answers errdefs.ErrFailedPrecondition for it too).
package containerlog
