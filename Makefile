# oauth-harness: the two commands a newcomer needs are `make run` and `make test`.
# Both set themselves up (scripts/setup.sh) on a fresh machine.

GO        ?= go
BIN       := bin/oauth-harness
ADDR      ?= 127.0.0.1:9000
FUZZTIME  ?= 10s
BENCHTIME ?= 1x

.PHONY: run test setup build serve check unit fuzz bench bench-full clean

## run: the main job. Today: the reference authorization server and contacts API on $(ADDR).
run: setup build
	$(BIN) serve --addr $(ADDR)

serve: run

## test: everything CI gates on: format, vet, race-enabled tests, brief fuzzing, benchmarks compile and run once.
test: setup check unit fuzz bench
	@echo "make test: all checks passed"

setup:
	@scripts/setup.sh

build:
	$(GO) build -o $(BIN) ./cmd/oauth-harness

check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt wants to rewrite:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...

# Each fuzz target runs briefly; a finding fails the build and leaves its input under testdata/fuzz.
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./...

## bench-full: the figures quoted in README (CPU per operation next to the bare crypto cost).
bench-full:
	$(GO) test -run '^$$' -bench . -benchtime 2s -count 3 ./reference-server/server/

clean:
	rm -rf bin reports/*
