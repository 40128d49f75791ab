#!/usr/bin/python3
"""Runs a stand-in (tests/standins/fake_glue.py or fake_om.py) with TCP_NODELAY
on its replies, otherwise unchanged:  nodelay.py fake_om.py ARGS...

The stand-ins answer through BaseHTTPRequestHandler, which writes a reply's
headers and its body in two send()s with Nagle's algorithm on: the body then
waits for the client's (delayed, ~40 ms on Linux) ACK of the headers, so every
request costs ~40 ms more than the latency asked for, whatever the client
does.  A real service writes its reply at once; the benchmark measures the
client against the injected latency, not against that stall."""
import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
STANDINS = os.path.join(os.path.dirname(HERE), "standins")


def main():
    script = os.path.join(STANDINS, os.path.basename(sys.argv[1]))
    sys.argv = [script] + sys.argv[2:]
    sys.path.insert(0, STANDINS)
    import http.server
    # every handler class of the stand-ins derives from this one
    http.server.BaseHTTPRequestHandler.disable_nagle_algorithm = True
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
