package imagearchive

import (
	"reflect"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestApplyChange(t *testing.T) {
	for _, tc := range []struct {
		changes []string
		want    ocispec.ImageConfig
	}{
		{[]string{`CMD ["/bin/app", "--flag"]`}, ocispec.ImageConfig{Cmd: []string{"/bin/app", "--flag"}}},
		{[]string{`cmd echo "hi there"`}, ocispec.ImageConfig{Cmd: []string{"/bin/sh", "-c", `echo "hi there"`}}},
		{[]string{`CMD [not json`}, ocispec.ImageConfig{Cmd: []string{"/bin/sh", "-c", "[not json"}}},
		{[]string{`ENTRYPOINT ["/init"]`, `CMD ["a"]`}, ocispec.ImageConfig{Entrypoint: []string{"/init"}, Cmd: []string{"a"}}},
		{[]string{`ENTRYPOINT exec app`}, ocispec.ImageConfig{Entrypoint: []string{"/bin/sh", "-c", "exec app"}}},
		{[]string{`ENV A=1 B="two words" C='x y' D=a\ b`, `ENV A=3`}, ocispec.ImageConfig{Env: []string{"A=3", "B=two words", "C=x y", "D=a b"}}},
		{[]string{"ENV\tPATH /usr/bin:/bin  and more"}, ocispec.ImageConfig{Env: []string{"PATH=/usr/bin:/bin  and more"}}},
		{[]string{`ENV Q="a \"quoted\" \\ word"`}, ocispec.ImageConfig{Env: []string{`Q=a "quoted" \ word`}}},
		{[]string{`LABEL a=b "c d"="e f"`, `LABEL version 1.0 beta`}, ocispec.ImageConfig{Labels: map[string]string{"a": "b", "c d": "e f", "version": "1.0 beta"}}},
		{[]string{`EXPOSE 80 53/udp 8000-8002/TCP 9/sctp`}, ocispec.ImageConfig{ExposedPorts: map[string]struct{}{
			"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}, "8002/tcp": {}, "9/sctp": {}}}},
		{[]string{`USER app:staff`}, ocispec.ImageConfig{User: "app:staff"}},
		{[]string{`VOLUME ["/data", "/logs"]`, `VOLUME /cache /tmp/x`}, ocispec.ImageConfig{Volumes: map[string]struct{}{"/data": {}, "/logs": {}, "/cache": {}, "/tmp/x": {}}}},
		{[]string{`WORKDIR /srv`, `WORKDIR app/../www`}, ocispec.ImageConfig{WorkingDir: "/srv/www"}},
		{[]string{`WORKDIR rel`}, ocispec.ImageConfig{WorkingDir: "/rel"}},
		{[]string{`STOPSIGNAL SIGUSR1`}, ocispec.ImageConfig{StopSignal: "SIGUSR1"}},
		{[]string{`stopsignal term`}, ocispec.ImageConfig{StopSignal: "term"}},
		{[]string{`STOPSIGNAL 9`}, ocispec.ImageConfig{StopSignal: "9"}},
		{[]string{`STOPSIGNAL SIGRTMIN+3`}, ocispec.ImageConfig{StopSignal: "SIGRTMIN+3"}},
	} {
		var cfg ocispec.ImageConfig
		for _, c := range tc.changes {
			if err := ApplyChange(&cfg, c); err != nil {
				t.Fatalf("%q: %v", c, err)
			}
		}
		if !reflect.DeepEqual(cfg, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.changes, cfg, tc.want)
		}
	}
}

func TestApplyChangeRefused(t *testing.T) {
	for _, c := range []string{
		"", "   ", "RUN echo hi", "ONBUILD RUN x", "FROM busybox", "ADD . /", "CMD", "ENV", "ENV A",
		`ENV ="x"`, `ENV A=1 B`, `ENV A="unterminated`, `LABEL a='x`, `ENV A=b\`,
		"EXPOSE http", "EXPOSE 0", "EXPOSE 70000", "EXPOSE 80/icmp", "EXPOSE 90-80", "EXPOSE 1-x",
		"USER a b", "VOLUME []", `VOLUME [""]`, "STOPSIGNAL SIGNOPE", "STOPSIGNAL 0", "STOPSIGNAL 99", "STOPSIGNAL SIGRTMIN+99",
		"HEALTHCHECK NONE", "MAINTAINER me",
	} {
		var cfg ocispec.ImageConfig
		if err := ApplyChange(&cfg, c); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%q: %v, want an invalid-argument error", c, err)
		}
	}
}
