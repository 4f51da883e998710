package kit

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"

	digest "github.com/opencontainers/go-digest"
)

// content is what a regular file of a kit layer holds: a literal text, a
// copy of a host file, or bytes generated from a seed — random (as
// incompressible as a binary or a compressed archive) or text-like (log
// lines, as compressible as text usually is). Generated content is the same
// on every machine and every run.
type content struct {
	kind contentKind
	data string // literalContent
	path string // hostFileContent
	seed string // randomContent, textContent
	size int64  // randomContent, textContent
}

type contentKind int

const (
	literalContent contentKind = iota
	hostFileContent
	randomContent
	textContent
)

func literal(s string) content            { return content{kind: literalContent, data: s} }
func hostFile(path string) content        { return content{kind: hostFileContent, path: path} }
func random(seed string, n int64) content { return content{kind: randomContent, seed: seed, size: n} }
func text(seed string, n int64) content   { return content{kind: textContent, seed: seed, size: n} }

// key names c's bytes: two contents with one key hold the same bytes. A host
// file is named by its digest.
func (c content) key() (string, error) {
	switch c.kind {
	case literalContent:
		return "literal:" + digest.FromString(c.data).String(), nil
	case hostFileContent:
		d, _, err := c.digest()
		return "file:" + d.String(), err
	case randomContent:
		return "random:" + strconv.FormatInt(c.size, 10) + ":" + c.seed, nil
	default:
		return "text:" + strconv.FormatInt(c.size, 10) + ":" + c.seed, nil
	}
}

// open returns a reader of c's bytes and their number. Reading it to the end
// records c's digest, so that digest does not read c again.
func (c content) open() (io.ReadCloser, int64, error) {
	var r io.Reader
	var closer io.Closer = noClose{}
	size := c.size
	switch c.kind {
	case literalContent:
		r, size = strings.NewReader(c.data), int64(len(c.data))
	case hostFileContent:
		f, err := os.Open(c.path)
		if err != nil {
			return nil, 0, fmt.Errorf("open %s: %w", c.path, err)
		}
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			f.Close()
			return nil, 0, fmt.Errorf("%s: not a regular file (%v)", c.path, err)
		}
		r, closer, size = io.LimitReader(f, st.Size()), f, st.Size()
	case randomContent:
		r = io.LimitReader(rand.NewChaCha8(sha256.Sum256([]byte(c.seed))), c.size)
	case textContent:
		r = io.LimitReader(newTextReader(c.seed), c.size)
	}
	key := ""
	if c.kind != hostFileContent { // a host file is keyed by its digest
		key, _ = c.key()
	}
	return &hashingReader{r: r, c: closer, h: sha256.New(), key: key, want: size}, size, nil
}

// digest returns the sha256 digest and the size of c's bytes.
func (c content) digest() (digest.Digest, int64, error) {
	memoKey := ""
	switch c.kind {
	case literalContent:
		return digest.FromString(c.data), int64(len(c.data)), nil
	case hostFileContent:
		st, err := os.Stat(c.path)
		if err != nil {
			return "", 0, fmt.Errorf("stat %s: %w", c.path, err)
		}
		memoKey = fmt.Sprintf("host:%s:%d:%d", c.path, st.Size(), st.ModTime().UnixNano())
	default:
		memoKey, _ = c.key()
	}
	if d, ok := contentDigests.Load(memoKey); ok {
		m := d.(memoDigest)
		return m.d, m.n, nil
	}
	rc, n, err := c.open()
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := rc.(*hashingReader)
	h.key = memoKey
	if _, err := io.Copy(io.Discard, h); err != nil {
		return "", 0, fmt.Errorf("read %s: %w", c.describe(), err)
	}
	return digest.NewDigest(digest.SHA256, h.h), n, nil
}

func (c content) describe() string {
	switch c.kind {
	case hostFileContent:
		return c.path
	case literalContent:
		return "literal content"
	default:
		k, _ := c.key()
		return k
	}
}

// contentDigests memoizes the digests of generated and host-file contents
// for the life of the test binary.
var contentDigests sync.Map // key → memoDigest

type memoDigest struct {
	d digest.Digest
	n int64
}

// hashingReader hashes what it reads and, once it reached the end having
// read want bytes, memoizes the digest under key.
type hashingReader struct {
	r    io.Reader
	c    io.Closer
	h    hash.Hash
	key  string
	want int64
	n    int64
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	if err == io.EOF {
		if h.n != h.want {
			return n, fmt.Errorf("content changed while read: %d bytes, want %d: %w", h.n, h.want, io.ErrUnexpectedEOF)
		}
		if h.key != "" {
			contentDigests.Store(h.key, memoDigest{digest.NewDigest(digest.SHA256, h.h), h.n})
		}
	}
	return n, err
}

func (h *hashingReader) Close() error { return h.c.Close() }

type noClose struct{}

func (noClose) Close() error { return nil }

// textReader endlessly produces log-like lines of words picked by a PCG
// seeded from seed.
type textReader struct {
	rng  *rand.Rand
	line int
	buf  []byte
	off  int
}

func newTextReader(seed string) *textReader {
	s := sha256.Sum256([]byte(seed))
	var a, b uint64
	for i := 0; i < 8; i++ {
		a = a<<8 | uint64(s[i])
		b = b<<8 | uint64(s[8+i])
	}
	return &textReader{rng: rand.New(rand.NewPCG(a, b)), buf: make([]byte, 0, 64<<10)}
}

func (r *textReader) Read(p []byte) (int, error) {
	if r.off == len(r.buf) {
		r.fill()
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

// fill refills buf with whole lines.
func (r *textReader) fill() {
	b := r.buf[:0]
	for len(b) < cap(b)-256 {
		r.line++
		b = append(b, "2000-01-01 kit["...)
		b = strconv.AppendInt(b, int64(r.rng.IntN(4096)), 10)
		b = append(b, "] "...)
		b = append(b, textLevels[r.rng.IntN(len(textLevels))]...)
		b = append(b, " line "...)
		b = strconv.AppendInt(b, int64(r.line), 10)
		b = append(b, ':')
		for n := 5 + r.rng.IntN(12); n > 0; n-- {
			b = append(b, ' ')
			b = append(b, textWords[r.rng.IntN(len(textWords))]...)
		}
		b = append(b, '\n')
	}
	r.buf, r.off = b, 0
}

var textLevels = []string{"INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"}

var textWords = []string{
	"container", "image", "layer", "snapshot", "mount", "overlay", "registry", "manifest",
	"digest", "blob", "config", "runtime", "namespace", "cgroup", "process", "signal",
	"network", "bridge", "veth", "address", "route", "socket", "pipe", "file", "directory",
	"link", "symlink", "whiteout", "opaque", "unpack", "pull", "push", "tag", "index",
	"platform", "linux", "amd64", "arm64", "request", "response", "timeout", "retry",
	"error", "warning", "started", "stopped", "created", "deleted", "running", "paused",
	"the", "a", "of", "to", "in", "for", "on", "with", "from", "by", "at", "is", "was",
	"not", "and", "or", "after", "before", "while", "then", "ok", "failed", "done",
	"id=4f2a", "id=9c1e", "pid=1", "pid=42", "uid=0", "gid=0", "size=4096", "size=512",
	"bytes", "seconds", "ms", "attempt", "queue", "worker", "lease", "lock", "checkpoint",
	"restore", "exec", "attach", "stdin", "stdout", "stderr", "tty", "console", "pty",
	"seccomp", "apparmor", "selinux", "capability", "rlimit", "hostname", "domain", "dns",
	"resolv.conf", "/etc/hosts", "/var/lib/berth", "/run/berth", "sha256", "gzip", "zstd",
}
