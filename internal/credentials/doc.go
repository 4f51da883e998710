// Package credentials finds and keeps registry credentials in the files
// docker and podman use, so that a `docker login` or `podman login` made
// before works for Berth and a `berth login` works for them.
//
// A credential file is JSON in docker's config.json format (podman's
// auth.json is the same format, with only the "auths" part):
//
//	{
//		"auths": {
//			"https://index.docker.io/v1/": {"auth": "<base64 user:password>"},
//			"localhost:5000": {"auth": "…"}
//		},
//		"credHelpers": {"123.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"},
//		"credsStore": "pass"
//	}
//
// The files are searched in order (see Files); the first that has
// credentials for a registry wins:
//
//  1. the file given explicitly (--authfile)
//  2. $REGISTRY_AUTH_FILE
//  3. ${XDG_RUNTIME_DIR}/containers/auth.json (podman's default)
//  4. ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json (podman's fallback)
//  5. $DOCKER_CONFIG/config.json, else ~/.docker/config.json (docker's)
//
// Within one file a registry's credentials come from, in order: its
// credHelpers entry (a docker-credential-<name> program on $PATH), its
// "auths" entry, and the file's default credsStore helper. Registry names
// are compared as docker compares them: "https://index.docker.io/v1/",
// "index.docker.io", "registry-1.docker.io" and "docker.io" are one
// registry, and a scheme or path on a key ("http://localhost:5000/v2/") is
// ignored. A key naming a repository ("quay.io/org/app", as podman allows)
// is used for that repository before the registry's own key.
//
// Store and Erase change a file as `docker login` and `docker logout` do:
// through the file's helper when it names one for the registry, else in its
// "auths" entry; the file is rewritten atomically, mode 0600, keeping every
// key Berth does not know.
//
//	kc := credentials.NewKeychain(authfile)      // an authn.Keychain for the registry client
//	err := credentials.Store(credentials.DefaultFile(), "localhost:5000", "alice", "s3cret")
//	err = credentials.Erase(credentials.DefaultFile(), "localhost:5000") // NotFound if not logged in
package credentials
