package archive

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/berth-project/berth/internal/testenv"
)

func compress(t *testing.T, kind string, data []byte) []byte {
	var buf bytes.Buffer
	var w io.WriteCloser
	switch kind {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zstd":
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	default:
		return data
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecompress(t *testing.T) {
	data := layer(t, file("f", "hello"))
	for _, kind := range []string{"plain", "gzip", "zstd"} {
		t.Run(kind, func(t *testing.T) {
			rc, err := Decompress(bytes.NewReader(compress(t, kind, data)))
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("Decompress: %d bytes, %v", len(got), err)
			}
		})
	}
	if _, err := Decompress(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0})); err == nil {
		t.Error("a broken gzip header is accepted")
	}
}

func TestApplyCompressed(t *testing.T) {
	testenv.RequiresRoot(t)
	for _, kind := range []string{"plain", "gzip", "zstd"} {
		t.Run(kind, func(t *testing.T) {
			s := newSandbox(t)
			rc, err := Decompress(bytes.NewReader(compress(t, kind, layer(t, dir("d"), file("d/f", "hello")))))
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if _, err := Apply(context.Background(), s.root, rc, ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(filepath.Join(s.root, "d/f")); err != nil || string(b) != "hello" {
				t.Fatalf("d/f: %q %v", b, err)
			}
		})
	}
}

func TestApplyBombCompressed(t *testing.T) {
	testenv.RequiresRoot(t)
	s := newSandbox(t)
	rc, err := Decompress(bytes.NewReader(compress(t, "zstd", layer(t, file("big", string(make([]byte, 8<<20)))))))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := Apply(context.Background(), s.root, rc, ApplyOptions{MaxBytes: 1 << 20}); err == nil {
		t.Fatal("a layer beyond MaxBytes is applied")
	}
}
