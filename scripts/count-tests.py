#!/usr/bin/env python3
"""Prints 'N passed, N failed' over the GoogleTest cases that meson ran in
the given build directories (meson-logs/testlog.junit.xml). A test program
that failed without reporting a failed case (a crash, a sanitizer abort, a
timeout, or a crash that Wine reported and then exited 0) counts as at least
one failure. `--extra P F` adds results counted elsewhere; `--junit FILE`
adds the test cases of another suite's JUnit XML report (pytest's
--junitxml), a missing report counting as one failure."""
import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def count_cases(report):
    """(passed, failed, skipped) test cases of a JUnit XML report."""
    passed = failed = skipped = 0
    for case in ET.parse(report).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--extra", nargs=2, type=int, default=[0, 0], metavar=("PASSED", "FAILED"),
                    help="results counted elsewhere (fuzzing, benchmark smoke runs)")
parser.add_argument("--junit", action="append", default=[], metavar="FILE",
                    help="a JUnit XML report of another suite (repeatable)")
parser.add_argument("builds", nargs="*", help="meson build directories")
args = parser.parse_args()

passed, failed = args.extra
skipped = 0
for report in args.junit:
    if not Path(report).exists():
        print(f"{report}: no test report", file=sys.stderr)
        failed += 1
        continue
    p, f, s = count_cases(report)
    passed, failed, skipped = passed + p, failed + f, skipped + s
for build in args.builds:
    log = Path(build) / "meson-logs" / "testlog.junit.xml"
    if not log.exists():
        print(f"{build}: no test log", file=sys.stderr)
        failed += 1
        continue
    p, case_failures, s = count_cases(log)
    passed, skipped = passed + p, skipped + s
    program_failures = 0
    with open(Path(build) / "meson-logs" / "testlog.json") as results:
        for line in results:
            result = json.loads(line)
            # Wine's report of a crash: under Wine a program that crashed can
            # still exit 0 (after its debugger's backtrace), and meson says OK.
            crashed = "Unhandled exception:" in (result.get("stdout") or "") + (
                result.get("stderr") or "")
            if crashed or result["result"] not in ("OK", "SKIP", "EXPECTEDFAIL"):
                program_failures += 1
    failed += max(case_failures, program_failures)

print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
