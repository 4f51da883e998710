package registry

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/credentials"
	"github.com/berth-project/berth/internal/errdefs"
)

// loginClient uses only the credential file authfile.
func loginClient(authfile string) *Client {
	return testClient(credentials.NewFileKeychain(authfile))
}

// Login, pull with the stored credentials, logout, and the pull is refused.
func TestLoginLogoutBasic(t *testing.T) {
	f := newFixture(t)
	f.user, f.pass = "berth", "s3cret"
	ctx := context.Background()
	authfile := filepath.Join(t.TempDir(), "sub", "auth.json")
	c := loginClient(authfile)
	ref := f.ref(t, "test/img:v1")

	err := c.Login(ctx, f.host, "berth", "wrong", authfile)
	if !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), "login to "+f.host+": unauthorized") {
		t.Errorf("wrong password: want FailedPrecondition %q, got %v", "login to "+f.host+": unauthorized", err)
	}
	if _, err := os.Stat(authfile); err == nil {
		t.Error("a refused login wrote the auth file")
	}

	if err := c.Login(ctx, "http://"+f.host+"/v2/", "berth", "s3cret", authfile); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(authfile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("auth file: %v, %v", fi, err)
	}
	var doc struct {
		Auths map[string]map[string]string `json:"auths"`
	}
	if err := json.Unmarshal(must(os.ReadFile(authfile)), &doc); err != nil || doc.Auths[f.host]["auth"] == "" {
		t.Errorf("auth file holds %+v (%v), want an entry for %s", doc, err, f.host)
	}
	if _, err := c.Resolve(ctx, ref); err != nil {
		t.Errorf("pull after login: %v", err)
	}

	if err := Logout(f.host, authfile); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Resolve(ctx, ref); !errdefs.IsFailedPrecondition(err) {
		t.Errorf("pull after logout: want FailedPrecondition, got %v", err)
	}
	err = Logout(f.host, authfile)
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "not logged in to "+f.host) {
		t.Errorf("second logout: want NotFound %q, got %v", "not logged in to "+f.host, err)
	}
}

// Login against a token-auth registry exchanges the credentials for a token.
func TestLoginToken(t *testing.T) {
	tr := newTokenRegistry(t, "berth", "s3cret")
	ctx := context.Background()
	authfile := filepath.Join(t.TempDir(), "auth.json")
	c := loginClient(authfile)
	for _, kc := range [][2]string{{"berth", "nope"}, {"someone", "s3cret"}} {
		err := c.Login(ctx, tr.host, kc[0], kc[1], authfile)
		if !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), "login to "+tr.host+": unauthorized") {
			t.Errorf("%v: want FailedPrecondition, got %v", kc, err)
		}
	}
	if err := c.Login(ctx, tr.host, "berth", "s3cret", authfile); err != nil {
		t.Fatal(err)
	}
	_, err := c.Resolve(ctx, must(parseRef(tr.host+"/nothing/here:v1")))
	if !errdefs.IsNotFound(err) {
		t.Errorf("pull after login: want NotFound (authorised, no such image), got %v", err)
	}
}

func TestLoginUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := l.Addr().String()
	l.Close()
	authfile := filepath.Join(t.TempDir(), "auth.json")
	err = loginClient(authfile).Login(context.Background(), host, "u", "p", authfile)
	if !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), host) {
		t.Errorf("want Unavailable naming %s, got %v", host, err)
	}
	if err := loginClient(authfile).Login(context.Background(), host, "", "p", authfile); !errdefs.IsInvalidArgument(err) {
		t.Errorf("empty user: want InvalidArgument, got %v", err)
	}
}
