# patrol — build, try, test and measure.
GO      ?= go
BIN     := bin/patrol
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build demo test test-deps bench lint clean

## build: the static binary bin/patrol
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/patrol

## demo: the monthly inspection of this machine, report under ./reports/
## Exit code 1 only means some items failed; the report is still written.
demo: build
	./$(BIN) inspect monthly; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 1 ]

## test: every test, against real sshd, rpm and files (installs them when missing)
test: test-deps
	$(GO) test -count=1 -timeout 13m ./...

test-deps:
	@scripts/test-deps.sh

## bench: speed and memory of inspections and of a 300 MiB copy, against OpenSSH
## and Ansible; see docs/benchmarks.md
bench: build test-deps
	$(GO) run ./bench/cmd/patrol-bench -patrol $(BIN)

## lint: go vet and a gofmt check
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin
