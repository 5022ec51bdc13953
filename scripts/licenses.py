#!/usr/bin/env python3
"""Checks every dependency of the workspace, offline, over `cargo metadata`:
licences (each package's SPDX expression must be satisfiable by the allowed
licences), sources (crates.io or this workspace only) and bans (one version of
each AWS SDK crate). Sésame itself is MIT OR Apache-2.0; dependencies may be under
permissive licences and MPL-2.0 (file-level copyleft), never under a licence that
would bind the services that embed Sésame (GPL, AGPL, LGPL, SSPL...)."""

import collections
import json
import re
import subprocess
import sys

ALLOWED = {
    "MIT", "MIT-0", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "Zlib",
    "0BSD", "CC0-1.0", "Unlicense", "BSL-1.0", "Unicode-3.0", "Unicode-DFS-2016",
    "MPL-2.0",
}
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"


def allowed(expression):
    """Whether an SPDX expression (with the old `/` for OR) can be satisfied."""
    tokens = re.findall(r"\(|\)|[A-Za-z0-9.+-]+", expression.replace("/", " OR "))
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else None

    def take():
        nonlocal position
        position += 1
        return tokens[position - 1]

    def primary():
        if peek() == "(":
            take()
            value = disjunction()
            if take() != ")":
                raise ValueError(expression)
            return value
        name = take()
        if peek() == "WITH":
            take()
            take()  # an exception only loosens the licence
        return name.rstrip("+") in ALLOWED

    def conjunction():
        value = primary()
        while peek() == "AND":
            take()
            value = primary() and value
        return value

    def disjunction():
        value = conjunction()
        while peek() == "OR":
            take()
            value = conjunction() or value
        return value

    result = disjunction()
    if position != len(tokens):
        raise ValueError(expression)
    return result


def main():
    metadata = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked", "--offline"],
        check=True, capture_output=True, text=True).stdout)
    members = set(metadata["workspace_members"])
    problems = []
    aws = collections.defaultdict(set)
    for package in metadata["packages"]:
        name, version = package["name"], package["version"]
        if package["id"] in members:
            if package.get("license") != "MIT OR Apache-2.0":
                problems.append(f"{name}: the workspace's crates are MIT OR Apache-2.0, not {package.get('license')}")
            continue
        source = package.get("source")
        if source != CRATES_IO:
            problems.append(f"{name} {version}: from {source}, not crates.io")
        licence = package.get("license")
        if not licence:
            problems.append(f"{name} {version}: no SPDX licence expression")
        elif not allowed(licence):
            problems.append(f"{name} {version}: {licence} is not among the allowed licences")
        if name.startswith("aws-sdk-") or name.startswith("aws-smithy-") or name in ("aws-config", "aws-runtime"):
            aws[name].add(version)
    for name, versions in sorted(aws.items()):
        if len(versions) > 1:
            problems.append(f"{name}: {len(versions)} versions ({', '.join(sorted(versions))}); one is enough")
    for problem in problems:
        print(problem, file=sys.stderr)
    count = len(metadata["packages"]) - len(members)
    print(f"licences: {count} dependencies checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
