"""Nothing held while idle: a daemon between runs keeps no TCP connection
to Glue or OpenMetadata, while within a run connections are reused."""
import os
import time
import unittest

from harness import DaemonCase


def tcp_sockets(pid):
    """The TCP sockets process pid holds, in any state: the lines of
    /proc/PID/net/tcp and tcp6 whose inode is one of its descriptors'."""
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue                    # closed meanwhile
        if link.startswith("socket:["):
            inodes.add(link[len("socket:["):-1])
    held = []
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as fh:
                next(fh)
                for line in fh:
                    f = line.split()
                    if f[9] in inodes:
                        held.append(f"{table} {f[1]} -> {f[2]} state {f[3]}")
        except FileNotFoundError:
            pass
    return held


class TestIdleConnections(DaemonCase):
    def no_tcp_within(self, timeout=30):
        """Polls until the daemon holds no TCP socket; what it still holds
        when the deadline passes."""
        deadline = time.time() + timeout
        held = tcp_sockets(self.proc.pid)
        while held and time.time() < deadline:
            time.sleep(0.1)
            held = tcp_sockets(self.proc.pid)
        return held

    def finished(self):
        """Each workflow's runs on record, once none is running or queued."""
        w = self.by_name()
        if any(x["state"] != "idle" for x in w.values()):
            return None
        return {n: x["runs"] for n, x in w.items()}

    def results(self, *names):
        w = self.by_name()
        return [w[n]["last"][0]["result"] if w[n].get("last") else None for n in names]

    def test_connections_reused_in_a_run_and_closed_after_it(self):
        self.config([("a", "0 0 1 1 *"), ("b", "0 0 1 1 *")])
        self.s.glue.call("POST", "/__fake/stats/reset")
        self.start()
        self.assertEqual(tcp_sockets(self.proc.pid), [])        # nothing before a run
        self.ctl("run", "a")
        self.wait(lambda: self.results("a") == ["success"], what="the run of a")
        st = self.s.glue_stats()
        conns = st["tcp_connections"] - 1       # the connection asking for the stats
        # the run's requests went on fewer connections than requests, no
        # more than glue_concurrency (8) at once
        self.assertGreater(conns, 0, st)
        self.assertLessEqual(conns, 8, st)
        self.assertGreater(st["total"], conns, st)
        self.assertEqual(self.no_tcp_within(), [], "connections held after the run")
        # two runs at once: the connections go when the last one ends
        self.ctl("run", "a")
        self.ctl("run", "b")
        self.wait(lambda: self.finished() == {"a": 2, "b": 1}, what="the runs of a and b")
        self.assertEqual(self.results("a", "b"), ["success", "success"])
        self.assertEqual(self.no_tcp_within(), [], "connections held after two runs")
        self.assertEqual(self.stop()[0], 0)


if __name__ == "__main__":
    unittest.main()
