# Starts fakecloud, the local AWS that enforces IAM, for the cloud suites.
# Source it (`source scripts/fakecloud.sh`): it builds a pinned fakecloud from its
# crate into the tools' cache when missing (once per machine: ~50 minutes on 2
# cores; it is an external tool under the AGPL, never a dependency of the
# workspace), starts it on a free loopback port with IAM enforced and signatures
# verified, makes each Lambda function's identity from infra/template.yaml
# (scripts/iam-policies.py), and exports:
#
#   AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID=test …   the emulator, as the root identity
#                                                (tests set up tables with it)
#   SESAME_TEST_IAM                              each function's key, policy, routes
#   SESAME_TEST_IAM_RESOURCES                    the bucket's policy, the mail names
#   SESAME_TEST_CALLS                            where the tests record the functions'
#                                                S3, SES and SSM calls (scripts/iam-evaluate.sh)
#
# It fails loudly (returns non-zero) when fakecloud cannot be built or started.
# `fakecloud_stop` stops it; an interactive shell that sourced this file stops it
# on exit unless that shell already had an EXIT trap.

SESAME_FAKECLOUD_VERSION="0.51.0"
SESAME_TOOLS="${SESAME_TOOLS:-$HOME/.cache/sesame/tools}"
SESAME_FAKECLOUD_ROOT="$SESAME_TOOLS/fakecloud-$SESAME_FAKECLOUD_VERSION"

fakecloud_stop() {
    if [ -n "${SESAME_FAKECLOUD_PID:-}" ]; then
        kill "$SESAME_FAKECLOUD_PID" 2>/dev/null || true
        local waited=0
        while kill -0 "$SESAME_FAKECLOUD_PID" 2>/dev/null && [ "$waited" -lt 50 ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        kill -KILL "$SESAME_FAKECLOUD_PID" 2>/dev/null || true
        wait "$SESAME_FAKECLOUD_PID" 2>/dev/null || true
        unset SESAME_FAKECLOUD_PID
    fi
    if [ -n "${SESAME_FAKECLOUD_DIR:-}" ]; then
        rm -rf "$SESAME_FAKECLOUD_DIR"
        unset SESAME_FAKECLOUD_DIR
    fi
    unset SESAME_FAKECLOUD_URL SESAME_FAKECLOUD_LOG SESAME_TEST_IAM SESAME_TEST_IAM_RESOURCES SESAME_TEST_CALLS
}

fakecloud_fail() {
    echo "fakecloud.sh: $*" >&2
    fakecloud_stop
    return 1
}

fakecloud_install() {
    local binary="$SESAME_FAKECLOUD_ROOT/bin/fakecloud"
    if [ -x "$binary" ] && "$binary" --version 2>/dev/null | grep -q "$SESAME_FAKECLOUD_VERSION"; then
        return 0
    fi
    command -v cargo >/dev/null 2>&1 || { echo "fakecloud.sh: cargo is required but missing" >&2; return 1; }
    echo "fakecloud.sh: building fakecloud $SESAME_FAKECLOUD_VERSION into $SESAME_FAKECLOUD_ROOT (once per machine, ~50 min on 2 cores)" >&2
    # Its own target folder, removed after: the binary is all that is kept.
    local target
    target="$(mktemp -d "${TMPDIR:-/tmp}/sesame-fakecloud-build.XXXXXX")" || return 1
    if ! CARGO_TARGET_DIR="$target" cargo install fakecloud --version "$SESAME_FAKECLOUD_VERSION" --locked \
        --root "$SESAME_FAKECLOUD_ROOT" --quiet; then
        rm -rf "$target"
        echo "fakecloud.sh: cannot build fakecloud $SESAME_FAKECLOUD_VERSION" >&2
        return 1
    fi
    rm -rf "$target"
    [ -x "$binary" ] || { echo "fakecloud.sh: the fakecloud binary is missing after the build" >&2; return 1; }
}

fakecloud_start() {
    fakecloud_stop # a server this shell started before
    fakecloud_install || return 1
    local dir port url
    dir="$(mktemp -d "${TMPDIR:-/tmp}/sesame-fakecloud.XXXXXX")" || { fakecloud_fail "cannot create a folder"; return 1; }
    SESAME_FAKECLOUD_DIR="$dir"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')" ||
        { fakecloud_fail "cannot pick a free port"; return 1; }
    url="http://127.0.0.1:$port"
    NO_COLOR=1 "$SESAME_FAKECLOUD_ROOT/bin/fakecloud" --addr "127.0.0.1:$port" --region eu-west-3 \
        --iam strict --verify-sigv4 --log-level warn >"$dir/log" 2>&1 &
    SESAME_FAKECLOUD_PID=$!
    local tries=0
    until curl -fsS -o /dev/null "$url/_fakecloud/health" 2>/dev/null; do
        if ! kill -0 "$SESAME_FAKECLOUD_PID" 2>/dev/null; then
            cat "$dir/log" >&2
            fakecloud_fail "fakecloud exited before answering (log above)"
            return 1
        fi
        tries=$((tries + 1))
        if [ "$tries" -ge 120 ]; then
            cat "$dir/log" >&2
            fakecloud_fail "fakecloud did not answer on $url within 60 s"
            return 1
        fi
        sleep 0.5
    done
    export SESAME_FAKECLOUD_URL="$url"
    export SESAME_FAKECLOUD_LOG="$dir/log"
    export AWS_ENDPOINT_URL="$url"
    export AWS_ACCESS_KEY_ID=test
    export AWS_SECRET_ACCESS_KEY=test
    export AWS_REGION=eu-west-3
    # Each function's identity, from the template (SAM's translator, in the
    # template validator's virtualenv; boto3 comes with it).
    bash "$(dirname "${BASH_SOURCE[0]}")/validate-template.sh" --install-only >&2 ||
        { fakecloud_fail "cannot install SAM's translator"; return 1; }
    "${SESAME_SAM_VENV:-$HOME/.cache/sesame/venv-sam}/bin/python" "$(dirname "${BASH_SOURCE[0]}")/iam-policies.py" \
        --endpoint "$url" --out "$dir/functions.json" --resources-out "$dir/resources.json" ||
        { fakecloud_fail "cannot make the functions' identities"; return 1; }
    export SESAME_TEST_IAM="$dir/functions.json"
    # What fakecloud cannot evaluate (the bucket's policy, SES), and where the tests
    # record each S3, SES and SSM call a function makes, for scripts/iam-evaluate.sh.
    export SESAME_TEST_IAM_RESOURCES="$dir/resources.json"
    export SESAME_TEST_CALLS="$dir/calls.jsonl"
    echo "fakecloud.sh: fakecloud $SESAME_FAKECLOUD_VERSION serving on $url with IAM enforced (pid $SESAME_FAKECLOUD_PID)" >&2
}

if ! fakecloud_start; then
    return 1 2>/dev/null || exit 1
fi
if [ -z "$(trap -p EXIT)" ]; then
    trap fakecloud_stop EXIT
fi
