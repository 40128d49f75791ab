#!/usr/bin/python3
"""Stands in for systemd-journald's native socket: binds a datagram socket
at the given path, decodes the native protocol (KEY=value lines, and the
binary KEY\\n<le64 length><data>\\n form for values with newlines) and
appends each record as a JSON line to the output file.  With a third
argument, a process id, it exits when that process has gone (the daemon it
listens for), so that it never outlives its test.

  journal_sink.py SOCKET OUTPUT [PID]"""
import json
import os
import socket
import struct
import sys
import threading
import time


def decode(data):
    rec = {}
    i = 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            nl = len(data)
        line = data[i:nl]
        if b"=" in line:
            k, _, v = line.partition(b"=")
            rec[k.decode()] = v.decode("utf-8", "replace")
            i = nl + 1
        else:
            size = struct.unpack("<Q", data[nl + 1:nl + 9])[0]
            rec[line.decode()] = data[nl + 9:nl + 9 + size].decode("utf-8", "replace")
            i = nl + 9 + size + 1
    return rec


def exit_with(pid):
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        time.sleep(0.1)


def main():
    path, out = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3:
        threading.Thread(target=exit_with, args=(int(sys.argv[3]),), daemon=True).start()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if os.path.exists(path):
        os.unlink(path)
    s.bind(path)
    with open(out + ".ready", "w"):
        pass
    with open(out, "a") as fh:
        while True:
            data, anc, _, _ = s.recvmsg(1 << 20, socket.CMSG_SPACE(64))
            if not data:
                for level, kind, payload in anc:       # sealed memfd for big records
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        fd = struct.unpack("i", payload[:4])[0]
                        data = os.pread(fd, 1 << 22, 0)
                        os.close(fd)
            fh.write(json.dumps(decode(data)) + "\n")
            fh.flush()


if __name__ == "__main__":
    main()
