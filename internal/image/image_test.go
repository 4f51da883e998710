package image

import (
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestChainIDs(t *testing.T) {
	a, b, c := digest.FromString("a"), digest.FromString("b"), digest.FromString("c")
	ids := ChainIDs([]digest.Digest{a, b, c})
	ab := digest.FromString(a.String() + " " + b.String())
	abc := digest.FromString(ab.String() + " " + c.String())
	if ids[0] != a || ids[1] != ab || ids[2] != abc {
		t.Fatalf("ChainIDs = %v", ids)
	}
	if ChainID(nil) != "" || ChainID([]digest.Digest{a, b, c}) != abc {
		t.Fatal("ChainID disagrees with ChainIDs")
	}
	// A known value: containerd's identity package gives the same.
	if got := ChainID([]digest.Digest{"sha256:a", "sha256:b"}); got != digest.FromString("sha256:a sha256:b") {
		t.Fatalf("ChainID = %s", got)
	}
}

func TestParseConfig(t *testing.T) {
	m := ocispec.Manifest{Layers: []ocispec.Descriptor{{}}}
	good := `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + digest.FromString("x").String() + `"]},"config":{"Cmd":["sh"]}}`
	c, err := ParseConfig([]byte(good), m)
	if err != nil || c.Config.Cmd[0] != "sh" {
		t.Fatalf("ParseConfig(good) = %+v, %v", c, err)
	}
	for name, raw := range map[string]string{
		"garbage":    `{`,
		"wrong type": `{"rootfs":{"type":"tar","diff_ids":["` + digest.FromString("x").String() + `"]}}`,
		"count":      `{"rootfs":{"type":"layers","diff_ids":[]}}`,
		"bad diffID": `{"rootfs":{"type":"layers","diff_ids":["sha256:zz"]}}`,
	} {
		if _, err := ParseConfig([]byte(raw), m); err == nil {
			t.Errorf("%s: ParseConfig accepted %s", name, raw)
		}
	}
}
