# vpark — common tasks. `make help` lists them.

CARGO ?= cargo

.PHONY: help run run-dev test test-web fuzz check fmt lint openapi build clean web web-deps

help: ## List the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

run: web ## Run the park: SQLite in ./var, demo data, API + docs + console on http://127.0.0.1:8080
	$(CARGO) run --release -p server --bin vpark -- serve

run-dev: web ## The same, with a debug build (compiles faster, runs slower)
	$(CARGO) run -p server --bin vpark -- serve

web-deps: ## Install the console's packages (npm ci) when they are missing or the lock changed
	@if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then \
		cd web && npm ci --no-audit --no-fund; fi

web: web-deps ## Build the console into web/dist (served and, in release builds, embedded by vpark)
	cd web && npm run build

test: web ## Every test: Rust (SQLite and PostgreSQL), the API fuzzer, the console's unit and browser tests
	$(CARGO) build -p server --bin vpark
	$(CARGO) test --workspace
	tests/fuzz.sh
	$(MAKE) test-web

test-web: web-deps ## The console: types match the spec, vitest, Playwright journeys in Debian's chromium
	cd web && npm run check:api && npm test && npm run e2e

fuzz: ## Schemathesis over the whole spec as ops, a subcontract partner and a client (needs the debug binary)
	tests/fuzz.sh

check: ## Formatting and lints, as CI runs them
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

openapi: ## Re-export the OpenAPI spec into openapi/vpark.json
	$(CARGO) run -q -p server --bin vpark -- export-openapi --out openapi/vpark.json

build: ## Build the release binary (target/release/vpark)
	$(CARGO) build --release -p server --bin vpark

clean: ## Remove build output and the local park data (./var)
	$(CARGO) clean
	rm -rf var
