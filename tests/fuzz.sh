#!/usr/bin/env bash
# Schemathesis over the whole API, `--checks all`, as vendor ops, a subcontract partner and a
# client, each against its own fresh demo park (SQLite in a temporary folder). Fails on any
# finding. Uses target/debug/vpark (build it first: `make test` does) or $VPARK_BIN.
#
#   tests/fuzz.sh                 # the three roles, 30 examples per operation
#   FUZZ_EXAMPLES=200 tests/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${VPARK_BIN:-$ROOT/target/debug/vpark}
EXAMPLES=${FUZZ_EXAMPLES:-30}
VERSION=4.32.5
VENV=$ROOT/target/fuzz-venv
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

[ -x "$BIN" ] || { echo "fuzz: $BIN is missing; build it with: cargo build -p server --bin vpark" >&2; exit 1; }
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$VERSION"; then
  echo "fuzz: installing schemathesis $VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# fuzz ROLE EMAIL: one fresh park, one login, one schemathesis run; its report in $WORK/ROLE.txt
fuzz() {
  local role=$1 email=$2 port dir pid token status
  port=$(free_port)
  dir=$WORK/$role
  mkdir -p "$dir"
  (cd "$dir" && exec "$BIN" serve --listen "127.0.0.1:$port" >"$dir/server.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.3; done
  token=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"vpark-demo\"}" | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
  status=0
  "$VENV/bin/schemathesis" --config-file tests/schemathesis.toml run "http://127.0.0.1:$port/openapi.json" \
    -H "Authorization: Bearer $token" --checks all --max-examples "$EXAMPLES" -w 2 --no-color \
    --generation-database none --exclude-operation-id logout --exclude-operation-id changeMyPassword \
    >"$WORK/$role.txt" 2>&1 || status=$?
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$status" >"$WORK/$role.status"
}

fuzz ops ops@vpark.demo &
fuzz sub sub@vpark.demo &
fuzz client client@vpark.demo &
wait

failed=0
for role in ops sub client; do
  status=$(cat "$WORK/$role.status" 2>/dev/null || echo 1)
  summary=$(grep -E '^Test cases:' -A1 "$WORK/$role.txt" | tail -n 1 | sed 's/^ *//')
  if [ "$status" = 0 ]; then
    echo "fuzz $role: passed — $summary"
  else
    failed=1
    echo "fuzz $role: FAILED (exit $status) — report follows"
    sed -n '/= FAILURES =/,/= WARNINGS =/p' "$WORK/$role.txt" | head -n 200
    tail -n 30 "$WORK/$role.txt"
  fi
done
exit $failed
