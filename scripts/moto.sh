# Starts moto's server, the AWS emulator the DynamoDB contract tests talk to.
# Source it (`source scripts/moto.sh`): it installs a pinned moto into a virtualenv
# when missing, starts moto's server (scripts/moto_server.py) on a free loopback
# port, waits until it answers, and exports the standard AWS environment pointing
# at it. It fails loudly (returns non-zero) when moto cannot be installed or started.
#
# The server runs until `moto_stop` is called: `scripts/test.sh` calls it from its
# EXIT trap; an interactive shell that sourced this file stops it on exit too,
# unless that shell already had an EXIT trap (then call `moto_stop` yourself).

SESAME_MOTO_VERSION="5.2.5"
SESAME_VENV="${SESAME_VENV:-$HOME/.cache/sesame/venv}"

moto_stop() {
    if [ -n "${SESAME_MOTO_PID:-}" ]; then
        kill "$SESAME_MOTO_PID" 2>/dev/null || true
        # moto exits through Python's finalisation, which can take minutes over a
        # large state: 5 s, then it is killed.
        local waited=0
        while kill -0 "$SESAME_MOTO_PID" 2>/dev/null && [ "$waited" -lt 50 ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        kill -KILL "$SESAME_MOTO_PID" 2>/dev/null || true
        wait "$SESAME_MOTO_PID" 2>/dev/null || true
        unset SESAME_MOTO_PID
    fi
    if [ -n "${SESAME_MOTO_LOG:-}" ]; then
        rm -f "$SESAME_MOTO_LOG"
        unset SESAME_MOTO_LOG
    fi
}

moto_fail() {
    echo "moto.sh: $*" >&2
    moto_stop
    return 1
}

moto_install() {
    local python="$SESAME_VENV/bin/python"
    if [ -x "$SESAME_VENV/bin/moto_server" ] &&
        "$python" -c "import importlib.metadata as m, sys; sys.exit(m.version('moto') != '$SESAME_MOTO_VERSION')" 2>/dev/null; then
        return 0
    fi
    command -v python3 >/dev/null 2>&1 || { echo "moto.sh: python3 is required but missing" >&2; return 1; }
    echo "moto.sh: installing moto[server]==$SESAME_MOTO_VERSION into $SESAME_VENV" >&2
    if [ ! -x "$python" ]; then
        python3 -m venv "$SESAME_VENV" || { echo "moto.sh: cannot create the virtualenv $SESAME_VENV" >&2; return 1; }
    fi
    "$python" -m pip install --quiet --disable-pip-version-check "moto[server]==$SESAME_MOTO_VERSION" ||
        { echo "moto.sh: cannot install moto[server]==$SESAME_MOTO_VERSION" >&2; return 1; }
    [ -x "$SESAME_VENV/bin/moto_server" ] || { echo "moto.sh: moto_server is missing after the install" >&2; return 1; }
}

moto_start() {
    moto_stop # a server this shell started before
    moto_install || return 1
    local python="$SESAME_VENV/bin/python" port url log
    port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')" ||
        { moto_fail "cannot pick a free port"; return 1; }
    url="http://127.0.0.1:$port"
    log="$(mktemp "${TMPDIR:-/tmp}/sesame-moto.XXXXXX")" || { moto_fail "cannot create a log file"; return 1; }
    SESAME_MOTO_LOG="$log"
    # moto_server, remembering only the SES messages for its dashboard (see the script).
    "$python" "$(dirname "${BASH_SOURCE[0]}")/moto_server.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    SESAME_MOTO_PID=$!
    # Up to 60 s: the first start imports a lot of Python.
    local tries=0
    until curl -fsS -o /dev/null "$url/moto-api/" 2>/dev/null; do
        if ! kill -0 "$SESAME_MOTO_PID" 2>/dev/null; then
            cat "$log" >&2
            moto_fail "moto_server exited before answering (log above)"
            return 1
        fi
        tries=$((tries + 1))
        if [ "$tries" -ge 120 ]; then
            cat "$log" >&2
            moto_fail "moto_server did not answer on $url within 60 s"
            return 1
        fi
        sleep 0.5
    done
    export SESAME_MOTO_URL="$url"
    export AWS_ENDPOINT_URL="$url"
    export AWS_ACCESS_KEY_ID=test
    export AWS_SECRET_ACCESS_KEY=test
    export AWS_REGION=eu-west-3
    echo "moto.sh: moto $SESAME_MOTO_VERSION serving on $url (pid $SESAME_MOTO_PID)" >&2
}

if ! moto_start; then
    # `return` when sourced, `exit` when run as a script.
    return 1 2>/dev/null || exit 1
fi
if [ -z "$(trap -p EXIT)" ]; then
    trap moto_stop EXIT
fi
