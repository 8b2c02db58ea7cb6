# oauth-harness: the two commands a newcomer needs are `make run` and `make test`.
# Both set themselves up (.ci/setup) on a fresh machine.

GO        ?= go
BIN       := bin/oauth-harness
ADDR      ?= 127.0.0.1:9000
FUZZTIME  ?= 10s
BENCHTIME ?= 1x

.PHONY: run load-max load-table test setup setup-run setup-serve build serve check unit fuzz bench bench-full clean

## run: the main job: the conformance catalogue against the embedded reference server, then a short load
## test of every path (LOAD_RATE requests/s for LOAD_DURATION each); reports in reports/.
LOAD_SCENARIOS ?= client-credentials refresh authorization-code api introspect userinfo jwks mixed
LOAD_RATE      ?= 50
LOAD_DURATION  ?= 3s
run: setup-run build
	$(BIN) conformance --out reports
	@for s in $(LOAD_SCENARIOS); do \
	  $(BIN) load --scenario $$s --rate $(LOAD_RATE) --duration $(LOAD_DURATION) --min-success 1 \
	    --calibrate 100ms --out reports/load/$$s || exit 1; done
	@echo "make run: conformance report reports/report.html; load reports reports/load/*/report.html"

## load-max: the highest rate one scenario holds at p99 <= 50 ms with 100% success (SCENARIO=...).
load-max: setup-run build
	$(BIN) load --scenario $(or $(SCENARIO),client-credentials) --find-max --slo-p99 50ms --slo-success 1 \
	  --out reports/load/$(or $(SCENARIO),client-credentials)-max

## load-table: README's performance table: the highest rate at p99 <= 50 ms with 100% success, and the
## server's CPU per request there, for issuance (Acme Sync) and validation (the API) with each
## algorithm, and RSA with Go's crypto too; then the JWKS (a fixed answer, no crypto): the HTTP floor.
## About 25 minutes; run it on a quiet machine.
TABLE_ALGS ?= RS256 PS256 ES256 EdDSA HS256
load-table: setup-run build
	@set -e; for alg in $(TABLE_ALGS) RS256-go; do \
	  a=$${alg%-go}; crypto=; case $$alg in *-go) crypto=go;; esac; \
	  for sc in client-credentials api; do \
	    clients=; [ $$sc = client-credentials ] && clients="--clients=Acme Sync"; \
	    OAUTH_HARNESS_CRYPTO=$$crypto $(BIN) load --scenario $$sc --signing-alg $$a $${clients:+"$$clients"} --find-max \
	      --slo-p99 50ms --slo-success 1 --start-rate 500 --out reports/load-table/$$alg-$$sc >/dev/null; \
	    echo "$$alg $$sc: $$(grep -E '^(highest rate|crypto|server CPU)' reports/load-table/$$alg-$$sc/summary.txt | tr -s ' ' | paste -sd ';')"; \
	  done; \
	done; \
	$(BIN) load --scenario jwks --find-max --slo-p99 50ms --slo-success 1 --start-rate 1000 --out reports/load-table/jwks >/dev/null; \
	echo "jwks: $$(grep -E '^(highest rate|server CPU)' reports/load-table/jwks/summary.txt | tr -s ' ' | paste -sd ';')"

## conformance-oidc-provider: the whole catalogue against panva's oidc-provider (a second, real
## provider; installed from npm and started on a free loopback port, stopped after); reports in
## reports/oidc-provider/. Needs node and npm.
.PHONY: conformance-oidc-provider
conformance-oidc-provider: setup-run build
	fixtures/targets/oidc-provider/with-provider.sh $(BIN) conformance --target fixtures/targets/oidc-provider.yaml \
	  --expected-failures fixtures/targets/oidc-provider.expected.yaml --out reports/oidc-provider

## serve: the reference authorization server and contacts API on $(ADDR), until Ctrl-C.
serve: setup-serve build
	$(BIN) serve --addr $(ADDR)

## test: everything CI gates on: format, vet, race-enabled tests, brief fuzzing, benchmarks compile and run once.
test: setup check unit fuzz bench
	@echo "make test: format, vet, tests, fuzzing and benchmarks passed"
	@cat reports/unit-summary.txt

setup:
	@.ci/setup

setup-run:
	@.ci/setup run

setup-serve:
	@.ci/setup serve

build:
	$(GO) build -o $(BIN) ./cmd/oauth-harness

check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt wants to rewrite:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Verbose output goes to reports/unit-tests.log; the console gets package results, failures and a count.
unit:
	@mkdir -p reports
	@$(GO) test -race -count=1 -v ./... > reports/unit-tests.log 2>&1; rc=$$?; \
	  grep -E '^(ok|FAIL|panic:|--- FAIL|    --- FAIL|\s+\S+_test\.go:[0-9]+:)' reports/unit-tests.log; \
	  echo "tests: $$(grep -cE -- '--- PASS' reports/unit-tests.log) passed, $$(grep -cE -- '--- FAIL' reports/unit-tests.log) failed" \
	    | tee reports/unit-summary.txt; \
	  exit $$rc

# Each fuzz target runs briefly; a finding fails the build and leaves its input under testdata/fuzz.
fuzz:
	@.ci/fuzz $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./...

## bench-full: the figures quoted in README (CPU per operation next to the bare crypto cost).
bench-full:
	$(GO) test -run '^$$' -bench . -benchtime 2s -count 3 ./reference-server/server/

clean:
	rm -rf bin reports/*

## image: the reference server's image, FROM scratch around a static oauth-harness, in the local engine
## (Docker, else Podman's service: .ci/engine installs and starts it when root). IMAGE names the tag.
IMAGE ?= localhost/oauth-harness-reference:dev
.PHONY: image
image: setup-serve
	@eval "$$(.ci/engine)" && $(GO) run ./reference-server/container/cmd/image -tag $(IMAGE)
