# Guichet: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
STATICCHECK := $(BIN)/staticcheck
STATICCHECK_VERSION := v0.8.2
# Tests and benchmarks use the local Redis unless told otherwise; `make run`
# does not: it is the embedded default, in memory.
TEST_REDIS_URL := $(or $(REDIS_URL),redis://127.0.0.1:6379/0)

.PHONY: run test check rules services bench bench-sms kannel build image fuzz clean

## run: build and start the gateway on its embedded default (in-memory stores, built-in catalogue)
run: build
	$(BIN)/guichet serve

build:
	$(GO) build -buildvcs=auto -o $(BIN)/guichet ./cmd/guichet # the commit in the binary (guichet version), when built from a checkout

## image: a container image FROM scratch (deploy/Containerfile) holding the static binary, built by podman
## without pulling anything: $(IMAGE):$(VERSION) and :latest (docs/OPERATIONS.md; the Dockerfile builds from source)
IMAGE ?= localhost/guichet
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
PODMAN ?= podman
PODMAN_FLAGS ?=
CA_CERTS ?= /etc/ssl/certs/ca-certificates.crt
image:
	rm -rf $(BIN)/image && mkdir -p $(BIN)/image/rootfs/tmp && chmod 1777 $(BIN)/image/rootfs/tmp
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -trimpath -ldflags '-s -w' -o $(BIN)/image/rootfs/usr/local/bin/guichet ./cmd/guichet
	install -D -m 0444 $(CA_CERTS) $(BIN)/image/rootfs/etc/ssl/certs/ca-certificates.crt
	$(PODMAN) $(PODMAN_FLAGS) build --pull=never -f deploy/Containerfile \
	  --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) \
	  -t $(IMAGE):$(VERSION) -t $(IMAGE):latest $(BIN)/image

## test: start what the tests need (Redis, PostgreSQL), lint, and run every test
test: services check
	REDIS_URL=$(TEST_REDIS_URL) $(GO) test -race -count=1 ./...

services:
	@bash scripts/test-services.sh

$(STATICCHECK):
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## check: gofmt, go vet, staticcheck, the imports that must never exist (docs/ARCHITECTURE.md) and the alert rules; fails on any finding
check: $(STATICCHECK) rules
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	@bash scripts/check-imports.sh

## rules: the Prometheus alert rules checked and held to their unit tests (promtool: Debian's prometheus package)
rules:
	@command -v promtool >/dev/null 2>&1 || { echo "rules: promtool not found (apt-get install prometheus, or make services)"; exit 1; }
	promtool check rules deploy/prometheus/alerts.yaml
	promtool test rules deploy/prometheus/alerts_test.yaml

## bench: the benchmarks (SMS side by side with Kannel among them) and the load generator; figures go in docs/BENCHMARKS.md
bench: services build kannel
	REDIS_URL=$(TEST_REDIS_URL) $(GO) test -run '^$$' -bench . -benchmem ./...
	REDIS_URL=$(TEST_REDIS_URL) bash scripts/bench-load.sh
	GO=$(GO) bash scripts/bench-sms-pairs.sh

## bench-sms: 20,000 SMS through Kannel (with and without receipts) and through Guichet's outbox on PostgreSQL, side by side; then PAIRS (5) alternated pairs of the closest target and their median ratio
bench-sms: services kannel
	REDIS_URL=$(TEST_REDIS_URL) $(GO) test -run '^$$' -bench SMSSideBySide -benchtime 1x ./outbox/delivery/
	GO=$(GO) bash scripts/bench-sms-pairs.sh

# kannel: Debian's kannel (bearerbox, smsbox), the peer the SMS benchmarks beat
kannel:
	@command -v bearerbox >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] || { echo "kannel: run as root to install it"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kannel >/dev/null; }

## fuzz: run every fuzz target for a short while (FUZZTIME=30s)
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf $(BIN)
