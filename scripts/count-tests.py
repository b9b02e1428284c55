#!/usr/bin/env python3
"""Prints 'N passed, N failed' over the GoogleTest cases that meson ran in
the given build directories (meson-logs/testlog.junit.xml). A test program
that failed without reporting a failed case (a crash, a sanitizer abort, a
timeout, or a crash that Wine reported and then exited 0) counts as at least
one failure. `--extra P F` adds results counted elsewhere."""
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

passed = failed = skipped = 0
args = sys.argv[1:]
if args[:1] == ["--extra"]:  # --extra PASSED FAILED: results counted elsewhere (fuzzing)
    passed, failed = int(args[1]), int(args[2])
    args = args[3:]
for build in args:
    log = Path(build) / "meson-logs" / "testlog.junit.xml"
    if not log.exists():
        print(f"{build}: no test log", file=sys.stderr)
        failed += 1
        continue
    case_failures = 0
    for case in ET.parse(log).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            case_failures += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
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
