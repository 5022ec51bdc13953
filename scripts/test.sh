#!/usr/bin/env bash
# Runs every test of Sésame. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Builds are reused across runs from a target folder outside the clone.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sesame/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A test run compiles once: incremental state would only fill the disk.
export CARGO_INCREMENTAL=0

# A reused target folder grows with every change built into it; when the disk runs
# low, drop what a run can rebuild (incremental state, then the debug build).
free_gib() { df -Pk "$(dirname "$CARGO_TARGET_DIR")" 2>/dev/null | awk 'NR==2 { print int($4 / 1048576) }'; }
mkdir -p "$CARGO_TARGET_DIR"
if [ "$(free_gib)" -lt 20 ]; then
    echo "test.sh: less than 20 GiB free; removing incremental state under $CARGO_TARGET_DIR"
    rm -rf "$CARGO_TARGET_DIR/debug/incremental"
fi
if [ "$(free_gib)" -lt 20 ]; then
    echo "test.sh: still less than 20 GiB free; removing the debug build under $CARGO_TARGET_DIR"
    rm -rf "$CARGO_TARGET_DIR/debug"
fi

need() { command -v "$1" >/dev/null 2>&1 || { echo "test.sh: $1 is required but missing" >&2; exit 1; }; }
need cargo
need curl
command -v pdftotext >/dev/null || { apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; }
command -v soffice >/dev/null || { apt-get update -qq && apt-get install -y -qq libreoffice-calc-nogui >/dev/null; }
command -v chromedriver >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }

echo "== dependencies, downloaded once for every platform (the licence step reads them offline)"
cargo fetch --locked

echo "== formatting"
cargo fmt --all -- --check

echo "== SAM template"
bash scripts/validate-template.sh

echo "== Lambda functions link no SQLite"
for manifest in functions/*/Cargo.toml; do
    package="sesame-$(basename "$(dirname "$manifest")")"
    if cargo tree -p "$package" --edges normal --prefix none --locked | grep -q '^rusqlite '; then
        echo "$package links rusqlite" >&2
        exit 1
    fi
done

echo "== licences, sources and duplicate AWS crates of every dependency (offline)"
python3 scripts/licenses.py

echo "== lints"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

echo "== the edge builds on its own features, as the README's commands build it"
# The workspace's other steps unify features across every crate, which can hide a
# feature the edge alone forgets to ask for.
cargo check -p sesame-edge --locked
cargo check -p sesame-edge --features aws --locked

echo "== local AWS (fakecloud, IAM enforced) for the cloud tests"
# Builds a pinned fakecloud into the tools' cache when missing (once per machine),
# starts it with IAM enforced, exports AWS_ENDPOINT_URL with its root identity and
# SESAME_TEST_IAM with each Lambda function's own identity; fails loudly.
source scripts/fakecloud.sh

echo "== SMTP sink (aiosmtpd) for the SMTP mail tests"
# Installs aiosmtpd when missing, starts it and exports SESAME_SMTP_SINK; fails loudly.
source scripts/smtp-sink.sh

echo "== tests"
log="$(mktemp)"
trap 'rm -f "$log"; fakecloud_stop; smtp_sink_stop' EXIT
status=0
cargo test --workspace --all-features --locked --lib --bins --tests 2>&1 | tee "$log" || status=$?

echo "== schema-driven fuzzing: schemathesis against the demo, as the description says"
# Installs a pinned schemathesis when missing; reuses the binary the tests built.
bash scripts/schemathesis.sh 2>&1 | tee -a "$log" || status=$?

echo "== the cloud as deployed, on fakecloud: each function with its own IAM policy"
# The black-box HTTP tests again, on fakecloud's DynamoDB, every request going to
# the function the template routes it to, signed with a key holding exactly that
# function's policy (tests/src/iam.rs); then the Lambda functions themselves, under
# `cargo lambda watch`, each with its own key: a teacher lists, resets, and the
# student logs in and changes the password (scripts/e2e-lambda.sh, which installs a
# pinned cargo-lambda when missing; its steps print as tests, so the closing line
# counts them). A call the template does not allow fails the test that made it.
# Each function keeps its files in S3 (a bucket per test) and sends through SES with
# its own key (a copy of each message in the outbox, where the tests read it).
refusals='fakecloud::iam::audit|denying under strict'
# Refusals before this point are the fault layer's own (its requests never reach a
# service, unsigned): only the functions' count.
seen="$(wc -l <"$SESAME_FAKECLOUD_LOG")"
SESAME_TEST_BACKEND=dynamodb cargo test -p sesame-tests --all-features --locked --test api 2>&1 \
    | tee -a "$log" || status=$?
bash scripts/e2e-lambda.sh 2>&1 | tee -a "$log" || status=$?
# What fakecloud does not evaluate (the files bucket's own policy, SES): every S3 and
# SES call the functions made above, recorded by tests/src/iam.rs, evaluated offline
# against the template's policies with @cloud-copilot/iam-simulate.
bash scripts/iam-evaluate.sh 2>&1 | tee -a "$log" || status=$?
# A refusal the code only logged (a best-effort cleanup) fails the run too.
denied="$(tail -n +"$((seen + 1))" "$SESAME_FAKECLOUD_LOG" | grep -c -E "$refusals" || true)"
{
    echo "fakecloud refused ${denied:-0} calls of the functions under the template's policies"
    if [ "${denied:-0}" -gt 0 ]; then
        tail -n +"$((seen + 1))" "$SESAME_FAKECLOUD_LOG" | grep -E "$refusals" | awk 'NR <= 20'
        echo "test cloud::every_call_is_allowed_by_the_template ... FAILED"
        echo "test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out"
    else
        echo "test cloud::every_call_is_allowed_by_the_template ... ok"
        echo "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out"
    fi
} | tee -a "$log"
[ "${denied:-0}" -eq 0 ] || status=1

# One closing line for the whole run: the sum of every test binary's results.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
