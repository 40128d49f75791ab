#!/usr/bin/python3
"""A fake AWS Secrets Manager (GetSecretValue) and SSM Parameter Store
(GetParameter), JSON 1.1 like Glue: every request must be signed with
SigV4 for the configured keys (verified by sigv4_verify.py) and valid
against the services' own models in ../shared/aws-models, and so must
every reply.  Secrets come from a JSON file {"id": "value"}; requests are
recorded (ids only) at GET /__fake/requests."""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import aws_model  # noqa: E402
import serve  # noqa: E402
import sigv4_verify  # noqa: E402

SERVICES = {"secretsmanager": ("secretsmanager", "GetSecretValue"),
            "AmazonSSM": ("ssm", "GetParameter")}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj, error_type=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        if error_type:
            self.send_header("X-Amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, code, msg, record):
        with self.server.st["lock"]:
            self.server.st["requests"].append(dict(record, ok=False, code=code))
        self.send_json(status, {"__type": code, "message": msg}, code)

    def do_GET(self):
        if self.path == "/__fake/requests":
            with self.server.st["lock"]:
                return self.send_json(200, self.server.st["requests"])
        if self.path == "/__fake/arrived":
            with self.server.st["lock"]:
                return self.send_json(200, {"arrived": self.server.st["arrived"]})
        self.send_json(404, {})

    def do_PUT(self):
        if self.path == "/__fake/reset":
            with self.server.st["lock"]:
                self.server.st["requests"].clear()
                self.server.st["arrived"] = 0
        self.send_json(200, {})

    def do_POST(self):
        a = self.server.args
        with self.server.st["lock"]:
            self.server.st["arrived"] += 1      # counted before the latency
        time.sleep(a.latency_ms / 1000.0)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        prefix, _, op = self.headers.get("X-Amz-Target", "").partition(".")
        record = {"target": self.headers.get("X-Amz-Target", "")}
        if prefix not in SERVICES or SERVICES[prefix][1] != op:
            return self.error(400, "UnknownOperationException", "unknown target", record)
        service, _ = SERVICES[prefix]
        if self.headers.get("Content-Type") != "application/x-amz-json-1.1":
            return self.error(400, "SerializationException", "bad content type", record)
        auth = sigv4_verify.parse_authorization(self.headers.get("Authorization"))
        if not auth or auth["access_key"] != a.access_key:
            return self.error(400, "UnrecognizedClientException",
                              "The security token included in the request is invalid.", record)
        if auth["service"] != service or auth["region"] != a.region:
            return self.error(400, "InvalidSignatureException",
                              f"Credential should be scoped to {a.region}/{service}", record)
        _, _, want = sigv4_verify.sign("POST", self.path, "", list(self.headers.items()), body,
                                       a.access_key, a.secret_key, a.region, service,
                                       self.headers.get("X-Amz-Date", ""), set(auth["signed"]))
        if sigv4_verify.parse_authorization(want)["signature"] != auth["signature"]:
            return self.error(400, "InvalidSignatureException",
                              "The request signature we calculated does not match", record)
        try:
            req = json.loads(body)
        except ValueError:
            return self.error(400, "SerializationException", "body is not JSON", record)
        model = self.server.models[service]
        errs = model.validate(model.input_shape(op), req)
        if errs:
            return self.error(400, "ValidationException", "; ".join(errs), record)
        sid = req.get("SecretId") if service == "secretsmanager" else req.get("Name")
        record["id"] = sid
        if service == "ssm" and not req.get("WithDecryption"):
            return self.error(400, "ValidationException", "want WithDecryption", record)
        if sid not in self.server.secrets:
            code = "ResourceNotFoundException" if service == "secretsmanager" else "ParameterNotFound"
            return self.error(400, code, "Secrets Manager can't find the specified secret.", record)
        value = self.server.secrets[sid]
        if service == "secretsmanager":
            out = {"ARN": f"arn:aws:secretsmanager:{a.region}:123456789012:secret:{sid}-AbCdEf",
                   "Name": sid, "VersionId": "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1",
                   "SecretString": value, "VersionStages": ["AWSCURRENT"],
                   "CreatedDate": 1523477145.713}
        else:
            out = {"Parameter": {"Name": sid, "Type": "SecureString", "Value": value,
                                 "Version": 1, "LastModifiedDate": 1523477145.713,
                                 "ARN": f"arn:aws:ssm:{a.region}:123456789012:parameter{sid}",
                                 "DataType": "text"}}
        errs = model.validate(model.output_shape(op), out)
        if errs:
            return self.error(500, "InternalFailure", "fake reply invalid: " + "; ".join(errs),
                              record)
        with self.server.st["lock"]:
            self.server.st["requests"].append(dict(record, ok=True))
        self.send_json(200, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--region", default="eu-west-1")
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-key", required=True)
    ap.add_argument("--secrets", required=True, help="JSON file {id: value}")
    ap.add_argument("--models", default=None)
    aws_model.add_shared_option(ap)
    ap.add_argument("--latency-ms", type=int, default=0)
    args = aws_model.use_shared(ap.parse_args())
    with open(args.secrets) as fh:
        secrets = json.load(fh)
    models = {s: aws_model.model(s, args.models) for s in ("secretsmanager", "ssm")}
    st = {"lock": threading.Lock(), "requests": [], "arrived": 0}
    return serve.serve(Handler, args.port, args.port_file, st=st, args=args, secrets=secrets,
                       models=models)


if __name__ == "__main__":
    sys.exit(main())
