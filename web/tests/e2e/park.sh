#!/usr/bin/env bash
# A fresh demo park for the browser tests: an empty directory, the vpark binary, the demo data.
# Its e-mails land as files in $E2E_PARK/var/mail (the invitation journey reads them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
bin="${VPARK_BIN:-$root/target/debug/vpark}"
dir="${E2E_PARK:?E2E_PARK names the park directory}"
[ -x "$bin" ] || { echo "e2e: $bin is missing; build it with: cargo build -p server --bin vpark" >&2; exit 1; }
rm -rf "$dir" && mkdir -p "$dir"
cd "$dir"
exec "$bin" serve --listen "127.0.0.1:${E2E_PORT:?}"
