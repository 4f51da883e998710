package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/berth-project/berth/internal/reference"
)

func TestTagsFollowsPages(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
			w.WriteHeader(http.StatusOK)
		case r.URL.Path == "/v2/app/tags/list" && r.URL.Query().Get("last") == "":
			w.Header().Set("Link", `</v2/app/tags/list?n=2&last=b>; rel="next"`)
			fmt.Fprint(w, `{"name":"app","tags":["a","b"]}`)
		case r.URL.Path == "/v2/app/tags/list" && r.URL.Query().Get("last") == "b":
			fmt.Fprint(w, `{"name":"app","tags":["c"]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ref, err := reference.Parse(srv.Listener.Addr().String() + "/app")
	if err != nil {
		t.Fatal(err)
	}
	tags, err := New(Options{}).Tags(context.Background(), ref)
	if err != nil || !slices.Equal(tags, []string{"a", "b", "c"}) {
		t.Fatalf("Tags = %v, %v", tags, err)
	}
	missing, _ := reference.Parse(srv.Listener.Addr().String() + "/nope")
	if _, err := New(Options{}).Tags(context.Background(), missing); err == nil {
		t.Fatal("Tags of a missing repository succeeded")
	}
}

func TestNextLink(t *testing.T) {
	for h, want := range map[string]string{
		`</v2/x/tags/list?last=b&n=2>; rel="next"`:     "/v2/x/tags/list?last=b&n=2",
		`<http://h/v2/x/tags/list?last=b>; rel="next"`: "http://h/v2/x/tags/list?last=b",
		`</v2/x>; rel="prev"`:                          "",
		`garbage`:                                      "",
	} {
		got, ok := nextLink(h)
		if got != want || ok != (want != "") {
			t.Errorf("nextLink(%q) = %q, %v", h, got, ok)
		}
	}
}
