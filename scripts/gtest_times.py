#!/usr/bin/env python3
"""Where the GPU tests spend their time: reads the JSON reports that GoogleTest writes under
GTEST_OUTPUT=json:DIR/ (one per test binary) and prints each binary's total and the slowest cases.

    scripts/gtest_times.py DIR [--top N]
"""
import argparse
import json
import pathlib
import sys


def seconds(value):
    return float(str(value).rstrip("s"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=pathlib.Path)
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()
    reports = sorted(args.dir.glob("*.json"))
    if not reports:
        sys.exit(f"{args.dir}: no GoogleTest JSON reports")
    binaries, cases = [], []
    for path in reports:
        report = json.loads(path.read_text())
        binaries.append((seconds(report.get("time", 0)), path.stem, report.get("tests", 0)))
        for suite in report.get("testsuites", []):
            for case in suite.get("testsuite", []):
                cases.append((seconds(case.get("time", 0)), f"{path.stem}: {suite['name']}.{case['name']}"))
    print("\n| test binary | cases | seconds |\n| --- | ---: | ---: |")
    for t, name, n in sorted(binaries, reverse=True):
        print(f"| {name} | {n} | {t:.2f} |")
    print(f"\nslowest {args.top} cases:\n")
    print("| case | seconds |\n| --- | ---: |")
    for t, name in sorted(cases, reverse=True)[: args.top]:
        print(f"| {name} | {t:.2f} |")


if __name__ == "__main__":
    main()
