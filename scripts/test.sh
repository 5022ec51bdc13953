#!/usr/bin/env bash
# Runs every test of Sésame. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Builds are reused across runs from a target folder outside the clone.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sesame/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

need() { command -v "$1" >/dev/null 2>&1 || { echo "test.sh: $1 is required but missing" >&2; exit 1; }; }
need cargo
need curl

echo "== formatting"
cargo fmt --all -- --check

echo "== lints"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

echo "== tests"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --all-features --locked --lib --bins --tests 2>&1 | tee "$log" || status=$?
# One closing line for the whole run: the sum of every test binary's results.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
