#!/usr/bin/env bash
# Measures the Lambda functions and writes BENCHMARKS.md's Lambda section (between
# `<!-- lambda:start -->` and `<!-- lambda:end -->`; the rest of the file is
# tests/bench/main.rs's, which keeps this section when it rewrites the file):
# - the size of each function's arm64 `bootstrap`, built as deployed
#   (`cargo lambda build --release --arm64`);
# - its init time, process start to ready for its first event. arm64 binaries do not
#   run on this x86_64 machine, so init is timed on the x86_64 build of the same
#   code with the same cargo-lambda release settings, by scripts/lambda-init.py
#   (a stub of the Lambda runtime API), against moto.
#
# Usage: bash scripts/bench-lambda.sh [--runs N] [--out FILE]   (defaults: 20, BENCHMARKS.md)
# Two release builds of every function (arm64, x86_64): allow 30 minutes or more on 2 cores, cold.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=20 out=BENCHMARKS.md
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "bench-lambda.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sesame/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
source scripts/cargo-lambda.sh

functions=()
for manifest in functions/*/Cargo.toml; do
    functions+=("sesame-$(basename "$(dirname "$manifest")")")
done
arm_dir="$CARGO_TARGET_DIR/lambda"
x86_dir="$CARGO_TARGET_DIR/lambda-x86_64"

# `elf_machine FILE`: the ELF e_machine field (b7 aarch64, 3e x86_64).
elf_machine() { od -An -tx1 -j18 -N1 "$1" | tr -d ' \n'; }

# As `sam build` builds them (BuildMethod rust-cargolambda: `cargo lambda build
# --release --arm64 --bin NAME` at the workspace root); every `--bin` in one command
# resolves the same features as one at a time, and links two at once.
bins=()
for name in "${functions[@]}"; do bins+=(--bin "$name"); done
echo "== arm64 build (cargo lambda build --release --arm64 --bin NAME ...)"
cargo lambda build --release --arm64 --locked "${bins[@]}"
echo "== x86_64 build of the same code, for the init times"
cargo lambda build --release --x86-64 --locked --lambda-dir "$x86_dir" "${bins[@]}"
for name in "${functions[@]}"; do
    [ "$(elf_machine "$arm_dir/$name/bootstrap")" = "b7" ] || { echo "$arm_dir/$name/bootstrap is not aarch64" >&2; exit 1; }
    [ "$(elf_machine "$x86_dir/$name/bootstrap")" = "3e" ] || { echo "$x86_dir/$name/bootstrap is not x86_64" >&2; exit 1; }
done

echo "== AWS emulator (moto)"
source scripts/moto.sh
work="$(mktemp -d "${TMPDIR:-/tmp}/sesame-bench-lambda.XXXXXX")"
trap 'moto_stop; rm -rf "$work"' EXIT

echo "== init times ($runs runs per function, after one warm-up)"
# The deployed environment (infra/template.yaml): no SESAME_JWT_KEY behind the
# authorizer. The table need not exist: init makes no AWS call.
load="$(cut -d' ' -f1 /proc/loadavg)"
bootstraps=()
for name in "${functions[@]}"; do bootstraps+=("$name=$x86_dir/$name/bootstrap"); done
env -u SESAME_JWT_KEY \
    SESAME_TABLE=sesame-bench-init \
    SESAME_DATA_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(36))')" \
    SESAME_PUBLIC_URL=https://sesame.example.org \
    SESAME_BUCKET=sesame-bench-init-files \
    RUST_LOG=info \
    python3 scripts/lambda-init.py --runs "$runs" "${bootstraps[@]}" | tee "$work/init.jsonl"

echo "== writing $out"
python3 - "$out" "$arm_dir" "$work/init.jsonl" "$runs" "$(cargo lambda --version | cut -d" " -f1-2)" \
    "$("$SESAME_LAMBDA_VENV/bin/python-zig" version)" "$(rustc --version)" "$load" <<'EOF'
import io, json, os, re, sys, zipfile

out, arm_dir, init_path, runs, cargo_lambda, zig, rustc, load = sys.argv[1:]
init = {r["name"]: r for r in map(json.loads, open(init_path))}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")

def mib(n):
    return f"{n / 2**20:.1f} MiB"

rows = []
for name in sorted(init):
    path = os.path.join(arm_dir, name, "bootstrap")
    size = os.path.getsize(path)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(path, "bootstrap")
    sqlite = "yes" if b"SQLite format 3" in open(path, "rb").read() else "no"
    r = init[name]
    rows.append(f"| `{name}` | {mib(size)} ({size:,} B) | {mib(len(packed.getvalue()))} | {sqlite} "
                f"| {r['median_ms']:.1f} ms | {r['p90_ms']:.1f} ms |")

section = f"""<!-- lambda:start -->
## Lambda functions: arm64 `bootstrap` size and init time

Measured by `scripts/bench-lambda.sh` on {os.cpu_count()} cores, {cpu}, with {cargo_lambda} (zig {zig}), {rustc}. Re-run it to refresh this section; `sesame-bench` keeps it.

| function | arm64 `bootstrap` | zipped | SQLite inside | init p50 (x86_64) | init p90 (x86_64) |
|---|---|---|---|---|---|
{chr(10).join(rows)}

- **Size**: the `bootstrap` that `cargo lambda build --release --arm64 --bin <function>`, run at the workspace root as `sam build` runs it, writes to `target/lambda/<function>/` (the workspace's release profile — thin LTO, 4 codegen units, stripped — to which cargo-lambda adds `panic = "abort"`); *zipped* is that file deflated alone in a zip, as uploaded. Built that way, with `--bin` and no `-p`, Cargo resolves features over every workspace member, so a function is compiled with the features the edge and the tests turn on too; *SQLite inside* says whether the bundled SQLite (`SQLite format 3`) ended up in the file.
- **Init**: measured on **x86_64**, not arm64: arm64 binaries do not run on this machine. The same code is built for x86_64 the same way (`cargo lambda build --release --x86-64 --bin <function>`). `scripts/lambda-init.py` stubs the Lambda runtime API on loopback, starts the `bootstrap` with `AWS_LAMBDA_RUNTIME_API` pointing at it and the deployed environment (`SESAME_TABLE`, `SESAME_DATA_KEY`, `SESAME_PUBLIC_URL`, `SESAME_BUCKET`, `RUST_LOG=info`, no `SESAME_JWT_KEY`; AWS variables naming moto, though init makes no AWS call), and times from just before the spawn to the arrival of the function's first `GET /2018-06-01/runtime/invocation/next`: configuration read, AWS SDK configuration loaded, DynamoDB client and router built, runtime ready for its first event. {runs} runs per function after one uncounted warm-up; median and p90 (nearest rank). The machine's load average was {load} when the runs started: other work on its {os.cpu_count()} cores shows in the p90.
- Not included: what Lambda adds around init (creating the sandbox, fetching and unpacking the package) and what the first event pays (resolving credentials, the TLS connection to DynamoDB).
<!-- lambda:end -->"""

try:
    document = open(out, encoding="utf-8").read()
except FileNotFoundError:
    document = "# Benchmarks\n"
pattern = re.compile(r"\n*<!-- lambda:start -->.*?<!-- lambda:end -->\n*", re.S)
document = pattern.sub("\n\n", document).rstrip("\n") + "\n\n" + section + "\n"
open(out, "w", encoding="utf-8").write(document)
print(section)
EOF
