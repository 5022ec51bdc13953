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
cargo test --workspace --all-features --locked
