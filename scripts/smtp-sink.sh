# Starts an SMTP sink, the real SMTP server the SMTP mail tests talk to.
# Source it (`source scripts/smtp-sink.sh`): it installs a pinned aiosmtpd into a
# virtualenv of its own when missing, starts it on a free loopback port with the
# handler of scripts/smtp_sink.py (each message is stored in a fresh folder, as
# `.eml` and decoded `.json`), waits until it greets, and exports
#   SESAME_SMTP_SINK=smtp://127.0.0.1:<port>   SESAME_SMTP_SINK_DIR=<folder>
# It fails loudly (returns non-zero) when aiosmtpd cannot be installed or started.
#
# The sink runs until `smtp_sink_stop` is called: `scripts/test.sh` calls it from its
# EXIT trap; an interactive shell that sourced this file stops it on exit too,
# unless that shell already had an EXIT trap (then call `smtp_sink_stop` yourself).

SESAME_AIOSMTPD_VERSION="1.4.6"
SESAME_SMTP_VENV="${SESAME_SMTP_VENV:-$HOME/.cache/sesame/venv-smtp}"
SESAME_SMTP_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

smtp_sink_stop() {
    if [ -n "${SESAME_SMTP_SINK_PID:-}" ]; then
        kill "$SESAME_SMTP_SINK_PID" 2>/dev/null || true
        wait "$SESAME_SMTP_SINK_PID" 2>/dev/null || true
        unset SESAME_SMTP_SINK_PID
    fi
    if [ -n "${SESAME_SMTP_SINK_LOG:-}" ]; then
        rm -f "$SESAME_SMTP_SINK_LOG"
        unset SESAME_SMTP_SINK_LOG
    fi
    if [ -n "${SESAME_SMTP_SINK_DIR:-}" ]; then
        rm -rf "$SESAME_SMTP_SINK_DIR"
        unset SESAME_SMTP_SINK_DIR SESAME_SMTP_SINK
    fi
}

smtp_sink_fail() {
    echo "smtp-sink.sh: $*" >&2
    smtp_sink_stop
    return 1
}

smtp_sink_install() {
    local python="$SESAME_SMTP_VENV/bin/python"
    if [ -x "$python" ] &&
        "$python" -c "import importlib.metadata as m, sys; sys.exit(m.version('aiosmtpd') != '$SESAME_AIOSMTPD_VERSION')" 2>/dev/null; then
        return 0
    fi
    command -v python3 >/dev/null 2>&1 || { echo "smtp-sink.sh: python3 is required but missing" >&2; return 1; }
    echo "smtp-sink.sh: installing aiosmtpd==$SESAME_AIOSMTPD_VERSION into $SESAME_SMTP_VENV" >&2
    if [ ! -x "$python" ]; then
        python3 -m venv "$SESAME_SMTP_VENV" || { echo "smtp-sink.sh: cannot create the virtualenv $SESAME_SMTP_VENV" >&2; return 1; }
    fi
    "$python" -m pip install --quiet --disable-pip-version-check "aiosmtpd==$SESAME_AIOSMTPD_VERSION" ||
        { echo "smtp-sink.sh: cannot install aiosmtpd==$SESAME_AIOSMTPD_VERSION" >&2; return 1; }
}

smtp_sink_start() {
    smtp_sink_stop # a sink this shell started before
    smtp_sink_install || return 1
    local python="$SESAME_SMTP_VENV/bin/python" port dir log
    port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')" ||
        { smtp_sink_fail "cannot pick a free port"; return 1; }
    dir="$(mktemp -d "${TMPDIR:-/tmp}/sesame-smtp-sink.XXXXXX")" || { smtp_sink_fail "cannot create the mail folder"; return 1; }
    SESAME_SMTP_SINK_DIR="$dir"
    log="$(mktemp "${TMPDIR:-/tmp}/sesame-smtp-sink-log.XXXXXX")" || { smtp_sink_fail "cannot create a log file"; return 1; }
    SESAME_SMTP_SINK_LOG="$log"
    PYTHONPATH="$SESAME_SMTP_SCRIPTS" "$python" -m aiosmtpd -n -l "127.0.0.1:$port" -c smtp_sink.Sink "$dir" \
        >"$log" 2>&1 &
    SESAME_SMTP_SINK_PID=$!
    # Up to 30 s, until the server greets with 220.
    local tries=0
    until "$python" -c '
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1) as s:
    sys.exit(0 if s.recv(3) == b"220" else 1)' "$port" 2>/dev/null; do
        if ! kill -0 "$SESAME_SMTP_SINK_PID" 2>/dev/null; then
            cat "$log" >&2
            smtp_sink_fail "aiosmtpd exited before answering (log above)"
            return 1
        fi
        tries=$((tries + 1))
        if [ "$tries" -ge 60 ]; then
            cat "$log" >&2
            smtp_sink_fail "aiosmtpd did not greet on 127.0.0.1:$port within 30 s"
            return 1
        fi
        sleep 0.5
    done
    export SESAME_SMTP_SINK="smtp://127.0.0.1:$port"
    export SESAME_SMTP_SINK_DIR
    echo "smtp-sink.sh: aiosmtpd $SESAME_AIOSMTPD_VERSION on $SESAME_SMTP_SINK, messages in $dir (pid $SESAME_SMTP_SINK_PID)" >&2
}

if ! smtp_sink_start; then
    # `return` when sourced, `exit` when run as a script.
    return 1 2>/dev/null || exit 1
fi
if [ -z "$(trap -p EXIT)" ]; then
    trap smtp_sink_stop EXIT
fi
