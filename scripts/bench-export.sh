#!/usr/bin/env bash
# Benchmarks the rendering of credential files (CSV, XLSX, PDF) for 2,000 and
# 10,000 accounts, one process per run so that each peak memory is its own, and
# rewrites the export section of BENCHMARKS.md (between its markers) with them.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sesame/target}"
cargo build --release --locked -p sesame-tests --bin sesame-bench-export
bench="$CARGO_TARGET_DIR/release/sesame-bench-export"

load="$(cut -d' ' -f1 /proc/loadavg)"
table="$(mktemp)"
trap 'rm -f "$table"' EXIT
for rows in 2000 10000; do
    for run in csv xlsx pdf:8 pdf:2 pdf:1 pdf:8:mixed pdf:2:mixed pdf:1:mixed; do
        # A format, for PDF the cards a page, and the names' scripts.
        IFS=: read -r format cards names <<<"$run"
        args=("$format" "$rows")
        [[ -n "$cards" ]] && args+=("$cards" "${names:-latin}")
        line="$("$bench" "${args[@]}")"
        echo "$line" >&2
        # format=pdf rows=2000 per_page=8 bytes=… seconds=… peak_rss_mib=…
        echo "$line" | awk '{
            for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            cards = (v["format"] == "pdf") ? v["per_page"] : "–"
            printf "| %s | %s | %s | %s | %.2f MiB | %.0f ms | %.1f MiB |\n",
                v["format"], v["rows"], cards, v["names"], v["bytes"] / 1048576, v["seconds"] * 1000, v["peak_rss_mib"]
        }' >>"$table"
    done
done

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
section="$(mktemp)"
trap 'rm -f "$table" "$section"' EXIT
{
    echo "<!-- export:start -->"
    echo "## Credential files: rendering"
    echo
    echo "Measured by \`scripts/bench-export.sh\` (\`sesame-bench-export\`, release build, one process per run) on $(nproc) cores, ${cpu:-unknown CPU}."
    echo "Rendering only, that is the time beyond the hashing: the Argon2 hashing of the temporary passwords that a real export also pays is measured by the bulk-reset benchmark above."
    echo "Peak memory is the whole process's (\`VmHWM\`), the synthetic accounts included. Targets (SPEC §9): 2,000 accounts within 2 s per format; peak memory under 200 MiB for 10,000."
    echo "The machine's load average was $load when the runs started: other work on its cores shows in the times."
    echo
    echo "Names: \`latin\` (accented Latin, DejaVu only) or \`mixed\` (seven in eight in Arabic, Hebrew, Chinese, Japanese, Korean, Greek, Vietnamese or Romanian: bidi, shaping and three more embedded fonts)."
    echo
    echo "| format | accounts | cards a page | names | file | time | peak memory |"
    echo "|---|---|---|---|---|---|---|"
    cat "$table"
    echo "<!-- export:end -->"
} >"$section"

file=BENCHMARKS.md
touch "$file"
if grep -q '<!-- export:start -->' "$file" && grep -q '<!-- export:end -->' "$file"; then
    awk -v section="$section" '
        /<!-- export:start -->/ { while ((getline line < section) > 0) print line; skip = 1; next }
        /<!-- export:end -->/ { skip = 0; next }
        !skip { print }
    ' "$file" >"$file.new"
    mv "$file.new" "$file"
else
    { echo; cat "$section"; } >>"$file"
fi
echo "BENCHMARKS.md: export section updated" >&2
