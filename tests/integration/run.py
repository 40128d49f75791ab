#!/usr/bin/python3
"""Runs the integration suite: python unittest modules test_*.py beside
this file, against the built binary and the local stand-ins.  Prints
'N passed, N failed' at the end."""
import argparse
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("-k", dest="pattern", default=None, help="only tests whose id contains this")
    args = ap.parse_args()
    os.environ["GLUEMETAD_BIN"] = os.path.abspath(args.binary)
    os.environ["GLUEMETAD_SHARED"] = os.path.abspath(args.shared)
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py")
    if args.pattern:
        def flat(s):
            for t in s:
                if isinstance(t, unittest.TestSuite):
                    yield from flat(t)
                else:
                    yield t
        suite = unittest.TestSuite(t for t in flat(suite) if args.pattern in t.id())
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{passed} passed, {failed} failed" + (f", {len(result.skipped)} skipped"
                                                  if result.skipped else ""))
    if result.testsRun == 0:
        print("no test ran", file=sys.stderr)
        return 1
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
