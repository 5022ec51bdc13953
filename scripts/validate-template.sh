#!/usr/bin/env bash
# Validates the SAM template offline: `sam validate`, `sam validate --lint` and
# `cfn-lint`, at pinned versions installed into their own virtualenv when missing
# (their dependency pins must not fight moto's). Fails loudly if they cannot install.
set -euo pipefail
cd "$(dirname "$0")/.."

CFN_LINT_VERSION="1.58.0"
SAM_CLI_VERSION="1.170.0"
venv="${SESAME_SAM_VENV:-$HOME/.cache/sesame/venv-sam}"

if ! "$venv/bin/cfn-lint" --version 2>/dev/null | grep -q "$CFN_LINT_VERSION" \
   || ! "$venv/bin/sam" --version 2>/dev/null | grep -q "$SAM_CLI_VERSION"; then
    echo "installing cfn-lint $CFN_LINT_VERSION and aws-sam-cli $SAM_CLI_VERSION into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "cfn-lint==$CFN_LINT_VERSION" "aws-sam-cli==$SAM_CLI_VERSION" \
        || { echo "validate-template.sh: could not install cfn-lint and aws-sam-cli" >&2; exit 1; }
fi

# `--install-only`: the tools, for scripts that use SAM's translator (iam-policies.py).
[ "${1:-}" = "--install-only" ] && exit 0

export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-west-3}"
"$venv/bin/sam" validate --template-file infra/template.yaml --region "$AWS_DEFAULT_REGION"
"$venv/bin/sam" validate --lint --template-file infra/template.yaml --region "$AWS_DEFAULT_REGION"
"$venv/bin/cfn-lint" infra/template.yaml
echo "infra/template.yaml: sam validate, sam validate --lint and cfn-lint pass"
