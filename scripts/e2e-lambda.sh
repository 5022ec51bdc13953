#!/usr/bin/env bash
# End to end on the cloud code: the Lambda functions built and served by
# `cargo lambda watch`, on a fresh DynamoDB table of the emulator that
# AWS_ENDPOINT_URL names: fakecloud with IAM enforced, each function signing with
# the key of its own policy (`SESAME_TEST_IAM`, from scripts/fakecloud.sh), or moto.
# A teacher lists their class, resets a student's password; the student logs in
# with the temporary password, must change it, changes it and logs in again.
#
# The table, the school and its roster are made by the edge binary (`sesame aws
# bootstrap`, `sesame school --backend aws`, `POST /v1/imports` on `sesame serve
# --backend aws`), which keeps this run's builds to three functions (the imports
# function and its uploads are tested in tests/stream on the same emulator).
# Results print like cargo test's
# (`test … ok`, `test result: …`) so that test.sh's summary counts them. Everything
# it starts is stopped on exit; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sesame/target}"
[ -n "${AWS_ENDPOINT_URL:-}" ] || { echo "e2e-lambda.sh: AWS_ENDPOINT_URL must name an emulator (source scripts/fakecloud.sh or scripts/moto.sh)" >&2; exit 1; }
source scripts/cargo-lambda.sh

work="$(mktemp -d "${TMPDIR:-/tmp}/sesame-e2e-lambda.XXXXXX")"
serve_pid="" watch_pids=()
stop() {
    # `cargo lambda watch` runs each function under `cargo run`: stop its whole group.
    local pid
    for pid in "${watch_pids[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    watch_pids=()
    if [ -n "$serve_pid" ]; then
        kill "$serve_pid" 2>/dev/null || true
        wait "$serve_pid" 2>/dev/null || true
        serve_pid=""
    fi
}
trap 'stop; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(36))'; }
fail() { echo "    $*" >&2; return 1; }

# `call METHOD URL [TOKEN] [JSON]`: prints the status; the body goes to $work/body.
# A function that dies leaves its invocation hanging under `cargo lambda watch`:
# give up as soon as its log says so.
call() {
    local args=(-sS -o "$work/body" -w '%{http_code}' --max-time 300 -X "$1" "$2") pid
    [ -n "${3:-}" ] && args+=(-H "Authorization: Bearer $3")
    [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
    : >"$work/body"
    curl "${args[@]}" >"$work/status" 2>"$work/curl.err" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if grep -q "command exited" "$work"/watch*.log 2>/dev/null; then
            kill "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            echo "    a function exited: $(grep -h -B3 "command exited" "$work"/watch*.log | head -c 1500)" >&2
            echo "000"
            return
        fi
        sleep 0.05
    done
    wait "$pid" 2>/dev/null || { cat "$work/curl.err" >&2; echo "000"; return; }
    cat "$work/status"
}
# `field EXPR`: EXPR (Python, the body as `b`) evaluated on the last body.
field() { python3 -c 'import json, sys; b = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$work/body" "$1"; }
body() { head -c 2000 "$work/body" 2>/dev/null; }
# `expect_status WANT GOT`
expect_status() { [ "$2" = "$1" ] || fail "expected HTTP $1, got $2: $(body)"; }

# `wait_http URL PID WHAT SECONDS`: until URL answers anything, while PID lives.
wait_http() {
    local deadline=$((SECONDS + $4))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true)" != "000" ]; do
        kill -0 "$2" 2>/dev/null || fail "$3 exited before answering" || return 1
        [ "$SECONDS" -lt "$deadline" ] || fail "$3 did not answer on $1 within $4 s" || return 1
        sleep 0.2
    done
}

table="sesame-e2e-lambda-$(date +%s)-$$"
bucket="sesame-e2e-files-$(date +%s)-$$"
school="e2e"
sesame="$CARGO_TARGET_DIR/debug/sesame"
export SESAME_DATA_DIR="$work/data" SESAME_TABLE="$table" SESAME_LOG="warn"
SESAME_JWT_KEY="$(secret)" SESAME_DATA_KEY="$(secret)"
export SESAME_JWT_KEY SESAME_DATA_KEY
roster="external_id,profile,first_name,last_name,classes,birth_date,local_admin
SA1,student,Zoé,Lefèvre,5A,2013-03-09,
SA2,student,Noé,Martin,5A,2013-05-01,
SB1,student,Léa,Dubois,5B,2013-07-02,
TA,teacher,Marion,Besson,5A,,
ADM,staff,Hélène,Garnier,,,admin
"
token() { "$sesame" token --school "$school" "$@"; }

# --- the steps, each one a test; a failed step stops the ones after it ---

build() {
    # The edge binary as the workspace tests built it (features unified, so fresh);
    # the functions as `cargo lambda watch` builds them (`cargo run --bin NAME`),
    # beforehand so that its first invocations do not wait on the compiler.
    cargo build --workspace --all-features --locked --bin sesame || fail "cannot build sesame" || return 1
    # `--bin` without `-p`, as watch does: Cargo then resolves features over the whole
    # workspace, so this build is the one watch reuses.
    cargo build --locked --bin sesame-list --bin sesame-reset --bin sesame-auth || fail "cannot build the functions"
}

seed() {
    "$sesame" aws bootstrap --table "$table" --bucket "$bucket" >/dev/null || fail "sesame aws bootstrap failed" || return 1
    "$sesame" school --backend aws --id "$school" --name "Collège de bout en bout" >/dev/null ||
        fail "sesame school --backend aws failed" || return 1
    local port status admin
    port="$(free_port)"
    "$sesame" serve --backend aws --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
    serve_pid=$!
    wait_http "http://127.0.0.1:$port/openapi.json" "$serve_pid" "sesame serve" 60 || { cat "$work/serve.log" >&2; return 1; }
    admin="$(token --role admin --sub e2e-admin)" || fail "sesame token failed" || return 1
    status="$(curl -sS -o "$work/body" -w '%{http_code}' --max-time 60 -X POST "http://127.0.0.1:$port/v1/imports" \
        -H "Authorization: Bearer $admin" -H 'Content-Type: text/csv' --data-binary "$roster" || echo 000)"
    expect_status 200 "$status" || return 1
    [ "$(field 'b["created"], b["errors"]')" = "(5, [])" ] || fail "the import did not create the 5 accounts: $(body)" || return 1
    status="$(call GET "http://127.0.0.1:$port/v1/accounts?profile=teacher" "$admin")"
    expect_status 200 "$status" || return 1
    teacher_id="$(field 'b["items"][0]["id"]')" || fail "no teacher in $(body)" || return 1
    stop
}

# `watch_as LOG CREDENTIALS`: a `cargo lambda watch` whose functions reach AWS with
# CREDENTIALS (`KEY SECRET`); sets `watched` to its base URL (not a subshell: stop()
# must know its process).
watch_as() {
    local port
    port="$(free_port)"
    # What infra/template.yaml gives every function, and the key an authorizer would use.
    {
        echo "SESAME_TABLE=$table"
        echo "SESAME_BUCKET=$bucket"
        echo "SESAME_DATA_KEY=$SESAME_DATA_KEY"
        echo "SESAME_JWT_KEY=$SESAME_JWT_KEY"
        echo "SESAME_PUBLIC_URL=http://127.0.0.1:$port"
        echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
        echo "AWS_REGION=$AWS_REGION"
        echo "AWS_ACCESS_KEY_ID=${2% *}"
        echo "AWS_SECRET_ACCESS_KEY=${2#* }"
    } >"$work/$1.env"
    # Its own process group (setsid), so that stop() ends the functions it runs too.
    setsid cargo lambda watch --ignore-changes --quiet -A 127.0.0.1 -P "$port" \
        --env-file "$work/$1.env" >"$work/$1.log" 2>&1 &
    watch_pids+=("$!")
    wait_http "http://127.0.0.1:$port/" "$!" "cargo lambda watch" 120 || { cat "$work/$1.log" >&2; return 1; }
    watched="http://127.0.0.1:$port/lambda-url"
}

declare -A base
watch() {
    local function credentials
    for function in sesame-list sesame-reset sesame-auth; do
        if [ -n "${SESAME_TEST_IAM:-}" ]; then
            # As deployed: each function with the key of its own policy (scripts/fakecloud.sh).
            credentials="$(python3 -c 'import json, sys; f = json.load(open(sys.argv[1]))[sys.argv[2]]; print(f["access_key_id"], f["secret_access_key"])' \
                "$SESAME_TEST_IAM" "$function")" || fail "no key for $function in $SESAME_TEST_IAM" || return 1
            watch_as "watch-$function" "$credentials" || return 1
            base[$function]="$watched"
        else
            # One emulator identity for all (moto enforces no IAM).
            if [ -z "${watched:-}" ]; then
                watch_as watch "$AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY" || return 1
            fi
            base[$function]="$watched"
        fi
    done
}

list_needs_a_token() {
    local status
    status="$(call GET "${base[sesame-list]}/sesame-list/v1/accounts?class=5A")"
    expect_status 401 "$status"
}

teacher_lists_their_class() {
    local status
    teacher="$(token --role teacher --sub "$teacher_id" --classes 5A)" || fail "sesame token failed" || return 1
    status="$(call GET "${base[sesame-list]}/sesame-list/v1/accounts?class=5A&profile=student" "$teacher")"
    expect_status 200 "$status" || return 1
    [ "$(field 'sorted(i["last_name"] for i in b["items"])')" = "['Lefèvre', 'Martin']" ] ||
        fail "expected the two students of 5A: $(body)" || return 1
    student_id="$(field '[i for i in b["items"] if i["last_name"] == "Martin"][0]["id"]')"
    student_login="$(field '[i for i in b["items"] if i["last_name"] == "Martin"][0]["login"]')"
}

teacher_resets_a_password() {
    local status
    status="$(call POST "${base[sesame-reset]}/sesame-reset/v1/accounts/reset-password" "$teacher" \
        "{\"account_ids\":[\"$student_id\"],\"method\":\"temporary\"}")"
    expect_status 200 "$status" || return 1
    [ "$(field 'b["results"][0]["status"]')" = "ok" ] || fail "the reset did not succeed: $(body)" || return 1
    temporary="$(field 'b["results"][0]["temporary_password"]')"
    [ -n "$temporary" ] && [ "$temporary" != "None" ] || fail "no temporary password in $(body)"
}

student_logs_in_with_the_temporary_password() {
    local status
    status="$(call POST "${base[sesame-auth]}/sesame-auth/v1/auth/login" "" \
        "$(python3 -c 'import json, sys; print(json.dumps({"login": sys.argv[1], "password": sys.argv[2]}))' "$student_login" "$temporary")")"
    expect_status 200 "$status" || return 1
    [ "$(field 'b["must_change_password"], b["account_id"]')" = "(True, '$student_id')" ] ||
        fail "expected must_change_password true for $student_id: $(body)"
}

chosen="tortue-violette-nuage"
student_changes_it() {
    local status
    status="$(call POST "${base[sesame-auth]}/sesame-auth/v1/auth/change-password" "" \
        "$(python3 -c 'import json, sys; print(json.dumps({"login": sys.argv[1], "current_password": sys.argv[2], "new_password": sys.argv[3]}))' "$student_login" "$temporary" "$chosen")")"
    expect_status 200 "$status" || return 1
    [ "$(field 'b["must_change_password"]')" = "False" ] || fail "expected must_change_password false: $(body)"
}

student_logs_in_with_the_new_password() {
    local status
    status="$(call POST "${base[sesame-auth]}/sesame-auth/v1/auth/login" "" \
        "$(python3 -c 'import json, sys; print(json.dumps({"login": sys.argv[1], "password": sys.argv[2]}))' "$student_login" "$chosen")")"
    expect_status 200 "$status" || return 1
    [ "$(field 'b["must_change_password"]')" = "False" ] || fail "expected must_change_password false: $(body)" || return 1
    status="$(call POST "${base[sesame-auth]}/sesame-auth/v1/auth/login" "" \
        "$(python3 -c 'import json, sys; print(json.dumps({"login": sys.argv[1], "password": sys.argv[2]}))' "$student_login" "$temporary")")"
    expect_status 401 "$status" || fail "the temporary password still works"
}

passed=0 failed=0 started=$SECONDS
step() {
    local name="e2e_lambda::$1"
    shift
    if [ "$failed" -gt 0 ]; then
        echo "test $name ... FAILED (not run: an earlier step failed)"
    elif t0=$SECONDS && "$@"; then
        echo "test $name ... ok ($((SECONDS - t0))s)"
        passed=$((passed + 1))
        return
    else
        echo "test $name ... FAILED"
        for log in "$work"/watch*.log; do
            [ -s "$log" ] && { echo "    $(basename "$log"):"; tail -n 40 "$log"; } >&2
        done
    fi
    failed=$((failed + 1))
}

echo "running 9 steps on table $table"
step the_edge_binary_and_the_functions_build build
step bootstrap_school_and_roster_are_created_on_dynamodb_by_the_edge_binary seed
step cargo_lambda_watch_serves_the_functions watch
step the_list_function_answers_401_without_a_token list_needs_a_token
step a_teacher_lists_the_students_of_their_class teacher_lists_their_class
step the_teacher_resets_a_students_password_to_a_temporary_one teacher_resets_a_password
step the_student_logs_in_with_it_and_must_change_it student_logs_in_with_the_temporary_password
step the_student_changes_it student_changes_it
step the_student_logs_in_with_the_new_password_and_not_the_temporary_one student_logs_in_with_the_new_password
stop

result=ok
[ "$failed" -eq 0 ] || result=FAILED
echo
echo "test result: $result. $passed passed; $failed failed; 0 ignored; 0 measured; 0 filtered out; finished in $((SECONDS - started))s"
[ "$failed" -eq 0 ]
