# Makes `cargo lambda` available: source it (`source scripts/cargo-lambda.sh`).
# It installs a pinned cargo-lambda from PyPI into a virtualenv when missing, with
# the zig it cross-compiles with (PyPI `ziglang`, pinned too), puts the
# virtualenv's bin folder first on PATH and exports CARGO_LAMBDA (the
# `cargo-lambda` executable). It fails loudly (returns non-zero) when cargo-lambda
# cannot be installed or does not run.

SESAME_CARGO_LAMBDA_VERSION="1.9.2"
# cargo-lambda asks for `ziglang>=0.10`; pin the one its arm64 builds were checked with.
SESAME_ZIGLANG_VERSION="0.17.1"
SESAME_LAMBDA_VENV="${SESAME_LAMBDA_VENV:-$HOME/.cache/sesame/venv-lambda}"

cargo_lambda_installed() {
    [ -x "$SESAME_LAMBDA_VENV/bin/cargo-lambda" ] &&
        "$SESAME_LAMBDA_VENV/bin/python" -c "
import importlib.metadata as m, sys
sys.exit(m.version('cargo-lambda') != '$SESAME_CARGO_LAMBDA_VERSION' or m.version('ziglang') != '$SESAME_ZIGLANG_VERSION')
" 2>/dev/null
}

cargo_lambda_install() {
    cargo_lambda_installed && return 0
    command -v python3 >/dev/null 2>&1 || { echo "cargo-lambda.sh: python3 is required but missing" >&2; return 1; }
    echo "cargo-lambda.sh: installing cargo-lambda==$SESAME_CARGO_LAMBDA_VERSION into $SESAME_LAMBDA_VENV" >&2
    if [ ! -x "$SESAME_LAMBDA_VENV/bin/python" ]; then
        python3 -m venv "$SESAME_LAMBDA_VENV" ||
            { echo "cargo-lambda.sh: cannot create the virtualenv $SESAME_LAMBDA_VENV" >&2; return 1; }
    fi
    "$SESAME_LAMBDA_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "cargo-lambda==$SESAME_CARGO_LAMBDA_VERSION" "ziglang==$SESAME_ZIGLANG_VERSION" ||
        { echo "cargo-lambda.sh: cannot install cargo-lambda==$SESAME_CARGO_LAMBDA_VERSION" >&2; return 1; }
    cargo_lambda_installed ||
        { echo "cargo-lambda.sh: cargo-lambda $SESAME_CARGO_LAMBDA_VERSION is missing after the install" >&2; return 1; }
}

cargo_lambda_setup() {
    cargo_lambda_install || return 1
    case ":$PATH:" in
        *":$SESAME_LAMBDA_VENV/bin:"*) ;;
        *) export PATH="$SESAME_LAMBDA_VENV/bin:$PATH" ;;
    esac
    export CARGO_LAMBDA="$SESAME_LAMBDA_VENV/bin/cargo-lambda"
    local version
    version="$(cargo lambda --version 2>&1)" ||
        { echo "cargo-lambda.sh: \`cargo lambda --version\` fails: $version" >&2; return 1; }
    case "$version" in
        *"$SESAME_CARGO_LAMBDA_VERSION"*) ;;
        *) echo "cargo-lambda.sh: \`cargo lambda\` is not $SESAME_CARGO_LAMBDA_VERSION: $version" >&2; return 1 ;;
    esac
}

if ! cargo_lambda_setup; then
    # `return` when sourced, `exit` when run as a script.
    return 1 2>/dev/null || exit 1
fi
