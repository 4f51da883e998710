package registry

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/content"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// A loopback registry is insecure by default: TLS with a certificate no
// one signed is accepted, for pushes and pulls.
func TestLoopbackTLSUnverified(t *testing.T) {
	srv := httptest.NewTLSServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "https://")
	c := testClient(nil)
	cs := must(content.Open(t.TempDir()))
	desc := storeImage(t, cs, must(random.Image(256, 1)))
	ref := must(parseRef(host + "/tls/img:v1"))
	if err := c.Push(context.Background(), cs, ref, desc, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Resolve(context.Background(), ref); err != nil || got.Digest != desc.Digest {
		t.Errorf("resolve over TLS: %+v, %v", got, err)
	}
}
