"""Init time of Lambda bootstraps: process start to ready for its first event.

Usage: python3 scripts/lambda-init.py --runs 20 NAME=PATH [NAME=PATH ...]

Emulates the one part of the Lambda runtime API that init reaches: it serves
`GET /2018-06-01/runtime/invocation/next` on a loopback port, spawns each bootstrap
with AWS_LAMBDA_RUNTIME_API pointing there (plus the function's own environment,
inherited from the caller), and records the time from just before the spawn to the
arrival of that first `next` request, when the runtime has finished its init and
waits for an event. The process is then killed. A bootstrap that posts an init
error or exits first fails the measurement. One warm-up run per bootstrap is not
counted (it pulls the file into the page cache). Prints one JSON object per line:
{"name", "runs_ms": [...], "median_ms", "p90_ms"}.
"""

import argparse
import http.server
import json
import os
import subprocess
import sys
import threading
import time

NEXT = "/2018-06-01/runtime/invocation/next"
INIT_ERROR = "/2018-06-01/runtime/init/error"


class Runtime:
    def __init__(self):
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.ready_at = None
        self.error = None

    def arm(self):
        with self.lock:
            self.ready.clear()
            self.ready_at = None
            self.error = None


def handler_for(runtime):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            now = time.perf_counter()
            if self.path == NEXT:
                with runtime.lock:
                    if runtime.ready_at is None:
                        runtime.ready_at = now
                runtime.ready.set()
                # No event follows: the process is killed once measured.
                self.send_response(503)
                self.end_headers()
            else:
                self.send_response(404)
                self.end_headers()

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            with runtime.lock:
                runtime.error = f"{self.path}: {body}"
            runtime.ready.set()
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


def once(runtime, path, env, timeout):
    runtime.arm()
    start = time.perf_counter()
    process = subprocess.Popen([path], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = start + timeout
        while not runtime.ready.wait(0.005):
            if process.poll() is not None:
                stderr = process.stderr.read().decode("utf-8", "replace")
                raise SystemExit(f"{path} exited with {process.returncode} before its first `next`:\n{stderr}")
            if time.perf_counter() > deadline:
                raise SystemExit(f"{path} did not ask for an event within {timeout} s")
        with runtime.lock:
            if runtime.error is not None:
                raise SystemExit(f"{path} reported an init error: {runtime.error}")
            return (runtime.ready_at - start) * 1e3
    finally:
        process.kill()
        process.wait()
        process.stderr.close()


def percentile(sorted_values, p):
    # Nearest rank on (n - 1) * p, as tests/bench/main.rs does.
    return sorted_values[round((len(sorted_values) - 1) * p)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("bootstraps", nargs="+", metavar="NAME=PATH")
    args = parser.parse_args()

    runtime = Runtime()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(runtime))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{server.server_address[1]}"
    env.setdefault("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    env.setdefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
    try:
        for item in args.bootstraps:
            name, _, path = item.partition("=")
            run_env = dict(env, AWS_LAMBDA_FUNCTION_NAME=name)
            once(runtime, path, run_env, args.timeout)  # warm-up, not counted
            runs = [once(runtime, path, run_env, args.timeout) for _ in range(args.runs)]
            ordered = sorted(runs)
            print(json.dumps({
                "name": name,
                "runs_ms": [round(r, 3) for r in runs],
                "median_ms": round(percentile(ordered, 0.5), 3),
                "p90_ms": round(percentile(ordered, 0.9), 3),
            }), flush=True)
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
