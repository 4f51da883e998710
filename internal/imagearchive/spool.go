package imagearchive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
)

// Bounds on the members Load spools.
const (
	// maxSmallMember is the largest non-JSON member kept in memory rather
	// than in an ingest (VERSION files, empty layers).
	maxSmallMember = 64 << 10
	// maxIngests bounds the members spooled to ingests at once: each holds
	// two file descriptors until the load ends.
	maxIngests = 4096
	// maxLinkHops bounds a chain of links inside an archive.
	maxLinkHops = 8
)

// member is a regular file of an archive, spooled: its bytes are in an open
// ingest (w) or, when small, in memory (data), and its digests are known.
type member struct {
	name   string
	size   int64
	digest digest.Digest
	// diffID is the digest of the member decompressed, when it is gzip or
	// zstd and decompresses; else its digest.
	diffID      digest.Digest
	compression string // "", "gzip" or "zstd"
	data        []byte // the bytes, when kept in memory
	isDoc       bool   // data holds a JSON document
	w           *content.Writer
}

// link is a symlink or hard link member: another name for target, or a
// dead end (target "") when it leads out of the archive.
type link struct {
	target string
	why    string
}

// spool holds an archive's members, read in full, until the load decides
// which to commit.
type spool struct {
	cs      *content.Store
	prefix  string // of the ingest refs
	members map[string]*member
	links   map[string]link
	docs    int64 // bytes of JSON documents held
	small   int64 // bytes of other members held
	ingests int
}

// readSpool reads the archive r, plain or compressed, member by member.
// On error every ingest it began is discarded.
func readSpool(ctx context.Context, r io.Reader, cs *content.Store) (_ *spool, err error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	s := &spool{cs: cs, prefix: "imagearchive-load-" + hex.EncodeToString(rnd[:]) + "-", members: map[string]*member{}, links: map[string]link{}}
	defer func() {
		if err != nil {
			s.discard()
		}
	}()
	dr, err := archive.Decompress(r)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	defer dr.Close()
	cr := &countingReader{r: ctxReader{ctx, dr}}
	tr := tar.NewReader(cr)
	for n := 0; ; n++ {
		before := cr.n
		hdr, err := tr.Next()
		if err == io.EOF {
			if err := checkTarEnd(cr.n, before); err != nil {
				return nil, fmt.Errorf("archive: %w", err)
			}
			break
		}
		if err != nil {
			return nil, readErr(ctx, "archive", err)
		}
		if n >= MaxMembers {
			return nil, fmt.Errorf("archive: more than %d members: %w", MaxMembers, errdefs.ErrInvalidArgument)
		}
		name, err := memberName(hdr.Name)
		if err != nil {
			return nil, err
		}
		if s.members[name] != nil || s.links[name] != (link{}) {
			return nil, fmt.Errorf("archive member %q: appears twice: %w", hdr.Name, errdefs.ErrInvalidArgument)
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
			if err := s.add(name, hdr.Size, tr); err != nil {
				return nil, readErr(ctx, fmt.Sprintf("archive member %q", hdr.Name), err)
			}
		case tar.TypeSymlink:
			s.links[name] = linkTarget(path.Dir(name), hdr.Linkname)
		case tar.TypeLink:
			s.links[name] = linkTarget(".", hdr.Linkname)
		}
		// Directories and special files name no blob; they are skipped,
		// with any data they claim, so that the next header starts clean.
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return nil, readErr(ctx, fmt.Sprintf("archive member %q", hdr.Name), err)
		}
	}
	// A compressed archive must decompress to its end: what follows the
	// tar (padding, usually) is read, within a bound, to see it whole.
	if _, err := io.CopyN(io.Discard, cr, 1<<20); err != nil && err != io.EOF {
		return nil, readErr(ctx, "archive", err)
	}
	if len(s.members) == 0 && len(s.links) == 0 {
		return nil, fmt.Errorf("archive: no members (empty or not a tar archive): %w", errdefs.ErrInvalidArgument)
	}
	return s, nil
}

// readErr classes an error met while reading the archive: a cut or garbled
// stream is the archive's fault, a canceled context is not.
func readErr(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil || errdefs.IsInvalidArgument(err) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %v (truncated or not a tar archive): %w", what, err, errdefs.ErrInvalidArgument)
}

// checkTarEnd checks, once tar.Reader.Next has returned io.EOF, that the
// stream ended with the two zero blocks of a tar's end: Go's reader also ends
// quietly at a member boundary, where a cut archive may end. total is what
// the stream gave in all, before what it gave until that last Next.
func checkTarEnd(total, before int64) error {
	if total == 0 {
		return fmt.Errorf("empty: %w", errdefs.ErrInvalidArgument)
	}
	if total-before < 2*512 {
		return fmt.Errorf("ends without its end-of-archive blocks (truncated): %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// memberName cleans an archive member's name, refusing absolute names and
// names with "..".
func memberName(name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\x00") {
		return "", fmt.Errorf("archive member %q: not a relative name: %w", name, errdefs.ErrInvalidArgument)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("archive member %q: names \"..\": %w", name, errdefs.ErrInvalidArgument)
		}
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", fmt.Errorf("archive member %q: names the archive's root: %w", name, errdefs.ErrInvalidArgument)
	}
	return clean, nil
}

// linkTarget resolves a link's target by name, relative to dir, inside the
// archive.
func linkTarget(dir, target string) link {
	if strings.HasPrefix(target, "/") {
		return link{why: fmt.Sprintf("links to the absolute path %q", target)}
	}
	joined := path.Join(dir, target)
	if joined == ".." || strings.HasPrefix(joined, "../") || joined == "." {
		return link{why: fmt.Sprintf("links to %q, outside the archive", target)}
	}
	return link{target: joined}
}

// add spools the member name of size bytes from r.
func (s *spool) add(name string, size int64, r io.Reader) (err error) {
	if size < 0 {
		return fmt.Errorf("negative size %d: %w", size, errdefs.ErrInvalidArgument)
	}
	m := &member{name: name, size: size}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	m.isDoc = size <= MaxDocumentSize && looksLikeJSON(br)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		m.compression = "gzip"
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		m.compression = "zstd"
	}
	inMemory := m.isDoc || (size <= maxSmallMember && s.small+size <= MaxDocumentsSize)
	switch {
	case m.isDoc && s.docs+size > MaxDocumentsSize:
		return fmt.Errorf("JSON documents exceed %d bytes in all: %w", MaxDocumentsSize, errdefs.ErrInvalidArgument)
	case m.isDoc:
		s.docs += size
	case inMemory:
		s.small += size
	}

	dg := digest.SHA256.Digester()
	var sinks []io.Writer
	sinks = append(sinks, dg.Hash())
	var buf bytes.Buffer
	if inMemory {
		buf.Grow(int(size))
		sinks = append(sinks, &buf)
	} else {
		if s.ingests >= maxIngests {
			return fmt.Errorf("more than %d blobs in one archive: %w", maxIngests, errdefs.ErrInvalidArgument)
		}
		w, err := s.cs.Writer(fmt.Sprintf("%s%d", s.prefix, s.ingests), "", size)
		if err != nil {
			return err
		}
		s.ingests++
		m.w = w
		// Registered at once, so that discard finds it on any error.
		s.members[name] = m
		sinks = append(sinks, w)
	}
	var unz *diffHasher
	if m.compression != "" {
		unz = newDiffHasher()
		sinks = append(sinks, unz)
	}
	n, err := io.Copy(io.MultiWriter(sinks...), br)
	if unz != nil {
		m.diffID = unz.finish()
	}
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("%d bytes, its header says %d: %w", n, size, errdefs.ErrInvalidArgument)
	}
	m.digest = dg.Digest()
	if m.compression == "" {
		m.diffID = m.digest
	}
	if inMemory {
		m.data = buf.Bytes()
	}
	s.members[name] = m
	return nil
}

// looksLikeJSON reports whether the stream starts, after white space, like
// a JSON object or array.
func looksLikeJSON(br *bufio.Reader) bool {
	head, _ := br.Peek(512)
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	return len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
}

// lookup returns the regular member that name leads to, following links
// inside the archive. A member named blobs/<alg>/<hex> must hash to that
// digest.
func (s *spool) lookup(name string) (*member, error) {
	orig := name
	clean, err := memberName(name)
	if err != nil {
		return nil, err
	}
	name = clean
	for hop := 0; ; hop++ {
		if m := s.members[name]; m != nil {
			if d, ok := blobDigest(name); ok && d != m.digest {
				return nil, fmt.Errorf("archive member %q: content has digest %s: %w", name, m.digest, errdefs.ErrInvalidArgument)
			}
			return m, nil
		}
		l, ok := s.links[name]
		if !ok {
			return nil, fmt.Errorf("archive member %q: %w", orig, errdefs.ErrNotFound)
		}
		if l.target == "" {
			return nil, fmt.Errorf("archive member %q: %s: %w", orig, l.why, errdefs.ErrInvalidArgument)
		}
		if hop >= maxLinkHops {
			return nil, fmt.Errorf("archive member %q: more than %d links: %w", orig, maxLinkHops, errdefs.ErrInvalidArgument)
		}
		name = l.target
	}
}

// doc returns the JSON document member name.
func (s *spool) doc(name string) (*member, error) {
	m, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	if !m.isDoc {
		return nil, fmt.Errorf("archive member %q: not a JSON document of at most %d bytes: %w", name, MaxDocumentSize, errdefs.ErrInvalidArgument)
	}
	return m, nil
}

var blobNameRE = regexp.MustCompile(`^blobs/([a-z0-9]+)/([a-f0-9]+)$`)

// blobDigest returns the digest an OCI layout member name states.
func blobDigest(name string) (digest.Digest, bool) {
	sub := blobNameRE.FindStringSubmatch(name)
	if sub == nil {
		return "", false
	}
	return digest.NewDigestFromEncoded(digest.Algorithm(sub[1]), sub[2]), true
}

// commit moves the members keep into the store and discards every other
// ingest. Members held in memory are written now.
func (s *spool) commit(keep []*member) error {
	defer s.discard()
	for _, m := range keep {
		if m.w == nil {
			if _, err := putBlob(s.cs, m.data); err != nil {
				return fmt.Errorf("archive member %q: %w", m.name, err)
			}
			continue
		}
		w := m.w
		m.w = nil
		if err := w.Commit(); err != nil && !errdefs.IsAlreadyExists(err) {
			return fmt.Errorf("archive member %q: %w", m.name, err)
		}
	}
	return nil
}

// discard aborts every ingest still open.
func (s *spool) discard() {
	for _, m := range s.members {
		if m.w != nil {
			_ = m.w.Discard()
			m.w = nil
		}
	}
}

// diffHasher hashes what it is written after decompressing it, in a
// goroutine; a stream that does not decompress gives no digest.
type diffHasher struct {
	pw   *io.PipeWriter
	done chan digest.Digest
}

func newDiffHasher() *diffHasher {
	pr, pw := io.Pipe()
	h := &diffHasher{pw: pw, done: make(chan digest.Digest, 1)}
	go func() {
		var d digest.Digest
		if dr, err := archive.Decompress(pr); err == nil {
			dg := digest.SHA256.Digester()
			if _, err := io.Copy(dg.Hash(), dr); err == nil {
				d = dg.Digest()
			}
			dr.Close()
		}
		// Take the rest, so that the writer never blocks.
		_, _ = io.Copy(io.Discard, pr)
		h.done <- d
	}()
	return h
}

func (h *diffHasher) Write(p []byte) (int, error) {
	// A broken stream only means no diffID; the member is still spooled.
	_, _ = h.pw.Write(p)
	return len(p), nil
}

func (h *diffHasher) finish() digest.Digest {
	_ = h.pw.Close()
	return <-h.done
}
