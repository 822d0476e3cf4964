# vpark — common tasks. `make help` lists them.

CARGO ?= cargo

.PHONY: help run run-dev test fuzz check fmt lint openapi build clean

help: ## List the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

run: ## Run the park: SQLite in ./var, demo data, API + docs + console on http://127.0.0.1:8080
	$(CARGO) run --release -p server --bin vpark -- serve

run-dev: ## The same, with a debug build (compiles faster, runs slower)
	$(CARGO) run -p server --bin vpark -- serve

test: ## Run every test (SQLite, and PostgreSQL at 127.0.0.1:5432 or VPARK_TEST_PG_URL), then the API fuzzer
	$(CARGO) build -p server --bin vpark
	$(CARGO) test --workspace
	tests/fuzz.sh

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
