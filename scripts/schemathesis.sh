#!/usr/bin/env bash
# Schema-driven fuzzing, as a provider integrating Sésame would run it: schemathesis
# reads `GET /openapi.json` from a fresh demo and checks every operation against it
# (`--checks all`) as the administrator, as a teacher and anonymously. Any
# difference between what the description says and what the server does fails.
#
# It installs a pinned schemathesis into a virtualenv when missing (failing loudly
# when it cannot), reuses the edge binary the workspace tests built (the build
# below is then a no-op), starts `sesame demo` on a free loopback port with its own
# data folder, and stops it on exit. Its configuration, tests/schemathesis/, says
# nothing the description does not say.
set -euo pipefail
cd "$(dirname "$0")/.."

SESAME_SCHEMATHESIS_VERSION="4.32.5"
venv="${SESAME_SCHEMATHESIS_VENV:-$HOME/.cache/sesame/venv-schemathesis}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sesame/target}"
# Fixed, so that a run finds what the run before found; bounded, so that the three
# runs stay within a few minutes on two cores.
seed="${SESAME_SCHEMATHESIS_SEED:-20261}"
examples="${SESAME_SCHEMATHESIS_EXAMPLES:-40}"

fail() {
    echo "schemathesis.sh: $*" >&2
    exit 1
}

install() {
    if [ -x "$venv/bin/schemathesis" ] &&
        "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$SESAME_SCHEMATHESIS_VERSION')" 2>/dev/null; then
        return 0
    fi
    command -v python3 >/dev/null 2>&1 || fail "python3 is required but missing"
    echo "schemathesis.sh: installing schemathesis==$SESAME_SCHEMATHESIS_VERSION into $venv" >&2
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv" || fail "cannot create the virtualenv $venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "schemathesis==$SESAME_SCHEMATHESIS_VERSION" ||
        fail "cannot install schemathesis==$SESAME_SCHEMATHESIS_VERSION"
    [ -x "$venv/bin/schemathesis" ] || fail "schemathesis is missing after the install"
}

install
# The edge binary as the workspace tests built it (features unified, so fresh).
cargo build --workspace --all-features --locked --bin sesame || fail "cannot build sesame"
sesame="$CARGO_TARGET_DIR/debug/sesame"

work="$(mktemp -d "${TMPDIR:-/tmp}/sesame-schemathesis.XXXXXX")"
demo_pid=""
stop() {
    if [ -n "$demo_pid" ]; then
        kill "$demo_pid" 2>/dev/null || true
        wait "$demo_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop EXIT

port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
base="http://127.0.0.1:$port"
SESAME_LOG=warn "$sesame" demo --data-dir "$work/data" --bind "127.0.0.1:$port" >"$work/demo.log" 2>&1 &
demo_pid=$!
deadline=$((SECONDS + 60))
until curl -fsS -o /dev/null "$base/healthz" 2>/dev/null; do
    kill -0 "$demo_pid" 2>/dev/null || { cat "$work/demo.log" >&2; fail "sesame demo exited before answering (log above)"; }
    [ "$SECONDS" -lt "$deadline" ] || { cat "$work/demo.log" >&2; fail "sesame demo did not answer on $base within 60 s"; }
    sleep 0.2
done
admin="$(sed -n 's/^ *export ADMIN=//p' "$work/demo.log")"
teacher="$(sed -n 's/^ *export TEACHER=//p' "$work/demo.log")"
[ -n "$admin" ] && [ -n "$teacher" ] || { cat "$work/demo.log" >&2; fail "sesame demo printed no admin or teacher token"; }

config="$PWD/tests/schemathesis/schemathesis.toml"
status=0
run() {
    local who="$1"
    shift
    echo "== schemathesis $SESAME_SCHEMATHESIS_VERSION, $who"
    # From the temporary folder, where schemathesis keeps its cache of findings.
    (cd "$work" && "$venv/bin/schemathesis" --config-file "$config" run "$base/openapi.json" \
        --checks all --seed "$seed" --max-examples "$examples" --no-color "$@") || status=1
}
# The teacher first: the administrator's run may change what the teacher sees.
run "as a teacher" -H "Authorization: Bearer $teacher"
run "anonymously"
run "as the administrator" -H "Authorization: Bearer $admin"
exit "$status"
