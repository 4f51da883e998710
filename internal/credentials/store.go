package credentials

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
)

// Store saves user and password for registry host in the credential file
// path (DefaultFile() when empty), as `docker login` does: through the
// file's helper for host when it names one (credHelpers, else credsStore),
// else as a base64 "auths" entry under Key(host). Other entries under
// another spelling of the same registry ("http://host/v2/") are dropped so
// that no stale password remains. The file and its directory are created
// if needed.
func Store(path, host, user, password string) error {
	path, host, err := args(path, host)
	if err != nil {
		return err
	}
	if user == "" || strings.Contains(user, ":") {
		return fmt.Errorf("credentials for %s: user name %q is empty or has a ':': %w", host, user, errdefs.ErrInvalidArgument)
	}
	doc, err := loadDoc(path)
	if err != nil {
		return err
	}
	if name, _ := doc.parsed.helper(host); name != "" {
		if err := helperStore(name, host, user, password); err != nil {
			return err
		}
		if doc.drop(host) {
			return doc.write()
		}
		return nil
	}
	doc.drop(host)
	e, _ := json.Marshal(entry{Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + password))})
	doc.auths[Key(host)] = e
	return doc.write()
}

// Erase removes registry host's credentials from the credential file path
// (DefaultFile() when empty) and from the file's helper for host, if any.
// When neither had any, the error is of class NotFound ("not logged in to
// host").
func Erase(path, host string) error {
	path, host, err := args(path, host)
	if err != nil {
		return err
	}
	doc, err := loadDoc(path)
	if err != nil {
		return err
	}
	found := false
	if name, _ := doc.parsed.helper(host); name != "" {
		if found, err = helperErase(name, host); err != nil {
			return err
		}
	}
	if doc.drop(host) {
		return doc.write()
	}
	if !found {
		return fmt.Errorf("not logged in to %s (credential file %s): %w", host, path, errdefs.ErrNotFound)
	}
	return nil
}

// args defaults and checks the arguments of Store and Erase.
func args(path, host string) (string, string, error) {
	if path == "" {
		path = DefaultFile()
	}
	if path == "" {
		return "", "", fmt.Errorf("credential file: no path given and no home directory: %w", errdefs.ErrInvalidArgument)
	}
	h := Host(host)
	if h == "" || strings.ContainsAny(h, " \t\n") {
		return "", "", fmt.Errorf("registry %q: not a host name: %w", host, errdefs.ErrInvalidArgument)
	}
	return path, h, nil
}

// doc is a credential file held for change: every top-level key and every
// "auths" entry as raw JSON, so that what Berth does not know survives.
type doc struct {
	path   string
	top    map[string]json.RawMessage
	auths  map[string]json.RawMessage
	parsed authFile
}

func loadDoc(path string) (*doc, error) {
	d := &doc{path: path, top: map[string]json.RawMessage{}, auths: map[string]json.RawMessage{}}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		d.path = real // rewrite the file a symlink points to, not the link
	}
	b, err := os.ReadFile(d.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("credential file %s: %w", path, err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return d, nil
	}
	bad := func(err error) error {
		return fmt.Errorf("credential file %s: %v: %w", path, err, errdefs.ErrInvalidArgument)
	}
	if err := json.Unmarshal(b, &d.top); err != nil {
		return nil, bad(err)
	}
	if err := json.Unmarshal(b, &d.parsed); err != nil {
		return nil, bad(err)
	}
	if raw, ok := d.top["auths"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &d.auths); err != nil {
			return nil, bad(err)
		}
	}
	return d, nil
}

// drop removes the "auths" entries of host (under any spelling) and
// reports whether there were any.
func (d *doc) drop(host string) bool {
	n := len(d.auths)
	for k := range d.auths {
		if normKey(k) == host {
			delete(d.auths, k)
		}
	}
	return len(d.auths) != n
}

// write replaces the file atomically (a temporary file in the same
// directory, synced, then renamed), mode 0600, creating its directory
// (0700) if needed.
func (d *doc) write() (err error) {
	auths, err := json.Marshal(d.auths)
	if err != nil {
		return fmt.Errorf("credential file %s: %w", d.path, err)
	}
	d.top["auths"] = auths
	b, err := json.MarshalIndent(d.top, "", "\t")
	if err != nil {
		return fmt.Errorf("credential file %s: %w", d.path, err)
	}
	dir := filepath.Dir(d.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("credential file %s: %w", d.path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(d.path)+".*")
	if err != nil {
		return fmt.Errorf("credential file %s: %w", d.path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("credential file %s: %w", d.path, err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("credential file %s: %w", d.path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("credential file %s: %w", d.path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("credential file %s: %w", d.path, err)
	}
	if err := os.Rename(tmp.Name(), d.path); err != nil {
		return fmt.Errorf("credential file %s: %w", d.path, err)
	}
	return nil
}
