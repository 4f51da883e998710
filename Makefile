# Berth — build, test and measure. `make help` lists the targets.
GO       ?= go
BIN      ?= $(CURDIR)/bin
PREFIX   ?= /usr/local
GOFLAGS  ?=
export GOFLAGS

RUNTIME_PKG := ./cmd/berth-runtime
FUZZTIME    ?= 10s

.PHONY: help deps demo build cni-plugins probe test test-unit test-root test-fuzz test-compat test-cgroup2 lint bench bench-pull install clean

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z0-9_-]+:.*## /{printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## install the Debian packages and Go modules the build and tests need (root)
	scripts/install-deps.sh

demo: deps build ## run a first container with berth-runtime (root)
	scripts/demo.sh

build: cni-plugins ## build bin/berth, bin/berth-monitor, bin/berth-runtime, the CNI plugins and the static test probe
	@mkdir -p $(BIN)
	CGO_ENABLED=1 $(GO) build -trimpath -tags netgo,osusergo -ldflags '-linkmode external -extldflags -static' -o $(BIN)/berth ./cmd/berth
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(BIN)/berth-monitor ./cmd/berth-monitor
	CGO_ENABLED=1 $(GO) build -trimpath -tags netgo,osusergo -ldflags '-linkmode external -extldflags -static' -o $(BIN)/berth-runtime $(RUNTIME_PKG)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/probe ./test/probe

CNI_PLUGINS := ipam/host-local main/bridge main/loopback meta/firewall meta/portmap meta/tuning

cni-plugins: ## build the CNI reference plugins (pinned in go.mod) into bin/cni, static
	@mkdir -p $(BIN)/cni
	for p in $(CNI_PLUGINS); do CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(BIN)/cni/$${p#*/} github.com/containernetworking/plugins/plugins/$$p || exit 1; done

probe: build

test-unit: ## unit tests (no root needed; root-only tests skip)
	$(GO) test ./internal/... ./test/kit/...

test-root: build ## every Go test, as root, strict (missing requirements fail)
	BERTH_TEST_STRICT=1 BERTH_BIN_DIR=$(BIN) $(GO) test -count=1 -p 1 -timeout 20m ./...

test-fuzz: ## each fuzz target for $(FUZZTIME) (layer tars, image archives, references, paths, seccomp)
	$(GO) test -run '^$$' -fuzz '^FuzzApply$$' -fuzztime $(FUZZTIME) ./internal/archive
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./internal/imagearchive
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/reference
	$(GO) test -run '^$$' -fuzz '^FuzzOpen$$' -fuzztime $(FUZZTIME) ./internal/linux/pathrs
	$(GO) test -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime $(FUZZTIME) ./internal/linux/seccomp
	$(GO) test -run '^$$' -fuzz '^FuzzFromImage$$' -fuzztime $(FUZZTIME) ./internal/spec

test-compat: build ## OCI runtime-tools validation, berth-runtime and runc side by side
	test/compat/runtime-tools/run.sh

test-cgroup2: build ## the cgroup v2 tests in a QEMU (TCG) virtual machine
	test/vm/run.sh

test: deps ## the whole suite, as root (what .ci/run runs): Go tests, fuzzing, OCI conformance, cgroup v2 VM
	$(MAKE) test-root test-fuzz test-compat test-cgroup2

lint: ## gofmt, go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet ./...

bench: build ## berth-runtime vs runc: run, lifecycle (with and without seccomp), exec latency, peak RSS
	bench/runtime.sh

bench-pull: build ## berth pull vs podman pull and skopeo copy: cold and warm, from the local registry
	NO_BUILD=1 bench/pull.sh

bench-run: build ## berth run --rm, run -d + rm -f, create and ps -a (500) vs podman; monitor memory vs conmon
	NO_BUILD=1 bench/run.sh

bench-net: build ## berth vs podman: run -d -p, TCP through the port vs the bridge (and slirp4netns), where attach/detach go
	NO_BUILD=1 bench/net.sh

install: build ## install the binaries under $(PREFIX)/bin
	install -m 0755 $(BIN)/berth-runtime $(PREFIX)/bin/berth-runtime
	install -m 0755 $(BIN)/berth $(PREFIX)/bin/berth
	install -m 0755 $(BIN)/berth-monitor $(PREFIX)/bin/berth-monitor
	install -d $(PREFIX)/libexec/berth/cni && install -m 0755 $(BIN)/cni/* $(PREFIX)/libexec/berth/cni/

clean: ## remove built binaries
	rm -rf $(BIN)
