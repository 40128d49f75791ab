#!/usr/bin/python3
"""A fake of the credential endpoints a workload on AWS asks: EC2 instance
metadata (IMDSv2: PUT a session token, then the role name and its
credentials with that token) and the ECS/EKS container credentials
endpoint (GET with an Authorization token).  Records every request."""
import argparse
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import serve  # noqa: E402

ROLE = "glue-reader"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, text, ctype="text/plain"):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, ok, why=""):
        st = self.server.st
        with st["lock"]:
            st["requests"].append({"method": self.command, "path": self.path, "ok": ok,
                                   "why": why, "token": bool(self.headers.get(
                                       "X-aws-ec2-metadata-token"))})

    def creds(self):
        a = self.server.args
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return {"AccessKeyId": a.access_key, "SecretAccessKey": a.secret_key,
                "Token": a.session_token, "Expiration": exp}

    def do_PUT(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        if self.path == "/__fake/reset":
            with self.server.st["lock"]:
                self.server.st["requests"].clear()
            return self.reply(200, "{}")
        if self.path != "/latest/api/token":
            self.record(False, "unknown path")
            return self.reply(404, "not found")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            self.record(False, "bad ttl header")
            return self.reply(400, "bad request")
        tok = uuid.uuid4().hex
        self.server.st["tokens"].add(tok)
        self.record(True)
        self.reply(200, tok)

    def do_GET(self):
        st, a = self.server.st, self.server.args
        if self.path == "/__fake/requests":
            with st["lock"]:
                return self.reply(200, json.dumps(st["requests"]), "application/json")
        if self.path.startswith("/latest/meta-data/iam/security-credentials/"):
            if self.headers.get("X-aws-ec2-metadata-token") not in st["tokens"]:
                self.record(False, "no or unknown IMDSv2 token")
                return self.reply(401, "unauthorized")
            rest = self.path[len("/latest/meta-data/iam/security-credentials/"):]
            self.record(True)
            if rest == "":
                return self.reply(200, ROLE)
            if rest == ROLE:
                body = dict(self.creds(), Code="Success", Type="AWS-HMAC",
                            LastUpdated=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
                return self.reply(200, json.dumps(body), "application/json")
            return self.reply(404, "not found")
        if self.path == "/container/creds":
            if self.headers.get("Authorization") != a.container_token:
                self.record(False, "bad Authorization")
                return self.reply(403, json.dumps({"message": "forbidden"}), "application/json")
            self.record(True)
            return self.reply(200, json.dumps(dict(self.creds(), RoleArn="arn:aws:iam::123456789012:role/x")),
                              "application/json")
        self.record(False, "unknown path")
        self.reply(404, "not found")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-key", required=True)
    ap.add_argument("--session-token", required=True)
    ap.add_argument("--container-token", default="container-auth-token")
    args = ap.parse_args()
    st = {"lock": threading.Lock(), "requests": [], "tokens": set()}
    return serve.serve(Handler, args.port, args.port_file, st=st, args=args)


if __name__ == "__main__":
    sys.exit(main())
