#!/usr/bin/python3
"""A fake Amazon S3 on 127.0.0.1 that serves GetObject, path-style
(GET /{bucket}/{key...}), and holds itself to S3's rules: SigV4 for service
`s3` verified by sigv4_verify.py with S3's canonicalisation (the path encoded
once, not normalised), x-amz-content-sha256 required, signed and checked,
every x-amz-* header signed, the session token when one is configured; the
request mapped onto GetObjectRequest of S3's service model and validated
there, the reply's headers validated against GetObjectOutput.  Errors are
S3's XML <Error> documents.  Objects come from --objects (a JSON map
"s3://bucket/key" -> text) and/or the `scripts` key of an --estate.  See
README.md for the control API."""
import argparse
import datetime
import email.utils
import hashlib
import json
import os
import re
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import aws_model  # noqa: E402
import serve  # noqa: E402
import sigv4_verify  # noqa: E402

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
HEX64 = re.compile(r"[0-9a-f]{64}")
BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
TIMELINE_MAX = 100000


def load_model(models_dir):
    try:
        return aws_model.Model("s3", models_dir)
    except FileNotFoundError:
        return aws_model.Model("s3", os.path.join(HERE, "models"))


class RawReply(Exception):
    """A broken reply, sent as it is (fault injection)."""

    def __init__(self, status, body):
        super().__init__(body)
        self.status, self.body = status, body


class S3Error(Exception):
    def __init__(self, status, code, message, rejected=True, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra
        self.rejected = rejected        # a protocol error (the client's fault), not an answer


def split_uri(uri):
    """'s3://bucket/key' -> (bucket, key)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


class State:
    def __init__(self, args):
        self.args = args
        self.model = load_model(args.models)
        self.lock = threading.Lock()
        self.latency_ms = args.latency_ms
        self.objects = {}         # (bucket, key) -> {"body": bytes, "content_type", "mtime"}
        self.buckets = set()
        self.deny = []            # "s3://bucket/prefix" strings: AccessDenied
        self.faults = []
        self.reset()
        if args.objects:
            with open(args.objects) as fh:
                self.add_objects(json.load(fh))
        if args.estate:
            with open(args.estate) as fh:
                self.add_objects(json.load(fh).get("scripts") or {})

    def reset(self):
        self.requests = []
        self.rejected = []
        self.counts = {}

    def add_objects(self, mapping):
        now = time.time()
        for uri, val in mapping.items():
            if uri == "buckets":              # {"buckets": [...]}: empty buckets that exist
                self.buckets.update(val)
                continue
            bucket, key = split_uri(uri)
            if isinstance(val, dict):
                body, ctype = val.get("body", ""), val.get("content_type", "binary/octet-stream")
            else:
                body, ctype = val, "binary/octet-stream"
            self.objects[(bucket, key)] = {
                "body": body.encode() if isinstance(body, str) else bytes(body),
                "content_type": ctype, "mtime": int(now)}
            self.buckets.add(bucket)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonS3"

    def log_message(self, fmt, *args):
        pass

    @property
    def st(self):
        return self.server.state

    # -- replies --
    def send(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error_xml(self, e, rid):
        extra = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in e.extra.items())
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{e.code}</Code><Message>{escape(e.message)}</Message>{extra}"
                f"<RequestId>{rid}</RequestId><HostId>{self.host_id(rid)}</HostId></Error>"
                ).encode()
        self.send(e.status, body, [("Content-Type", "application/xml"),
                                   ("x-amz-request-id", rid),
                                   ("x-amz-id-2", self.host_id(rid))])

    @staticmethod
    def host_id(rid):
        return hashlib.sha256(rid.encode()).hexdigest()[:40]

    def control(self, method, raw):
        st = self.st
        with st.lock:
            if method == "GET" and self.path == "/__fake/requests":
                return 200, st.requests
            if method == "GET" and self.path == "/__fake/stats":
                return 200, {"counts": st.counts, "total": len(st.requests),
                             "rejected": st.rejected}
            if method in ("PUT", "POST") and self.path == "/__fake/reset":
                st.reset()
                return 200, {}
            if method == "POST" and self.path == "/__fake/objects":
                st.add_objects(json.loads(raw or b"{}"))
                return 200, {"objects": len(st.objects)}
            if method == "POST" and self.path == "/__fake/config":
                cfg = json.loads(raw or b"{}")
                if "latency_ms" in cfg:
                    st.latency_ms = int(cfg["latency_ms"])
                if "deny" in cfg:
                    st.deny = list(cfg["deny"])
                if "faults" in cfg:
                    st.faults = [dict(f) for f in cfg["faults"]]
                return 200, {}
        return 404, {"message": "unknown control path"}

    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if self.path.startswith("/__fake/"):
            status, obj = self.control(method, raw)
            self.send(status, json.dumps(obj).encode(), [("Content-Type", "application/json")])
            return
        st = self.st
        if st.latency_ms:
            time.sleep(st.latency_ms / 1000.0)
        rid = uuid.uuid4().hex[:16].upper()
        entry = {"method": method, "path": self.path, "ok": False}
        try:
            status, body, headers = self.api(method, raw, entry)
        except serve.Misbehave as m:
            serve.misbehave(self, m.fault, "application/xml")
            return
        except RawReply as r:
            self.send(r.status, r.body.encode(), [("Content-Type", "application/xml")])
            return
        except S3Error as e:
            entry.update(status=e.status, code=e.code, message=e.message)
            with st.lock:
                st.requests.append(entry)
                st.counts[e.code] = st.counts.get(e.code, 0) + 1
                if e.rejected:
                    st.rejected.append({"method": method, "path": self.path, "code": e.code,
                                        "reason": e.message})
            self.send_error_xml(e, rid)
            return
        entry.update(status=status, code="ok", ok=True)
        with st.lock:
            st.requests.append(entry)
            st.counts["GetObject"] = st.counts.get("GetObject", 0) + 1
        self.send(status, body, list(headers) + [("x-amz-request-id", rid),
                                                 ("x-amz-id-2", self.host_id(rid))])

    # -- the request --
    def api(self, method, raw, entry):
        st = self.st
        raw_path, _, raw_query = self.path.partition("?")
        if not raw_path.startswith("/"):
            raise S3Error(400, "InvalidURI", "Couldn't parse the specified URI.")
        bucket_enc, _, key_enc = raw_path[1:].partition("/")
        bucket = urllib.parse.unquote(bucket_enc)
        key = urllib.parse.unquote(key_enc)
        entry.update(bucket=bucket, key=key)
        self.verify_signature(method, raw_path, raw_query, raw, entry)
        if method not in ("GET", "HEAD"):
            raise S3Error(501, "NotImplemented", "A header you provided implies functionality "
                          "that is not implemented (this stand-in serves GetObject only)")
        if not bucket or not key:
            raise S3Error(501, "NotImplemented", "ListBuckets/ListObjects are not implemented "
                          "by this stand-in; GetObject needs /{bucket}/{key}")
        req = self.model_input(bucket, key, raw_query)
        errs = st.model.validate(st.model.input_shape("GetObject"), req)
        if errs:
            raise S3Error(400, "InvalidArgument", "; ".join(errs))
        if not BUCKET_RE.fullmatch(bucket) or ".." in bucket:
            raise S3Error(400, "InvalidBucketName", "The specified bucket is not valid.",
                          BucketName=bucket)
        if len(key.encode()) > 1024:
            raise S3Error(400, "KeyTooLongError", "Your key is too long", Size=len(key.encode()),
                          MaxSizeAllowed=1024)
        uri = f"s3://{bucket}/{key}"
        with st.lock:
            for f in st.faults:
                if f.get("times", -1) == 0 or not uri.startswith(f.get("uri", "")):
                    continue
                if f.get("times", -1) > 0:
                    f["times"] -= 1
                if "action" in f:           # transport-level: reset, stall, truncate
                    raise serve.Misbehave(f)
                if "raw_body" in f:
                    raise RawReply(int(f.get("status", 200)), f["raw_body"])
                raise S3Error(int(f.get("status", 500)), f.get("code", "InternalError"),
                              f.get("message", "We encountered an internal error. Please try "
                                    "again."), rejected=False)
            denied = any(uri.startswith(d) for d in st.deny)
            obj = st.objects.get((bucket, key))
            bucket_known = bucket in st.buckets
        if denied:
            raise S3Error(403, "AccessDenied", "Access Denied", rejected=False)
        if not bucket_known:
            raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist",
                          rejected=False, BucketName=bucket)
        if obj is None:
            raise S3Error(404, "NoSuchKey", "The specified key does not exist.", rejected=False,
                          Key=key)
        return self.object_reply(obj, req)

    def model_input(self, bucket, key, raw_query):
        """The request as GetObjectRequest members (uri, querystring and header
        locations of the model)."""
        shape = self.st.model.shapes["GetObjectRequest"]
        by_query, by_header = {}, {}
        for name, mem in shape["members"].items():
            loc = mem.get("location")
            if loc == "querystring":
                by_query[mem["locationName"]] = name
            elif loc == "header":
                by_header[mem["locationName"].lower()] = name
        req = {"Bucket": bucket, "Key": key}
        for k, v in urllib.parse.parse_qsl(raw_query, keep_blank_values=True):
            if k == "x-id" and v == "GetObject":
                continue                # SDKs name the operation this way
            if k not in by_query:
                raise S3Error(501, "NotImplemented", f"the query parameter {k!r} implies "
                              "functionality this stand-in does not implement")
            req[by_query[k]] = self.typed(by_query[k], v, shape)
        for k, v in self.headers.items():
            name = by_header.get(k.lower())
            if name:
                req[name] = self.typed(name, v, shape)
        return req

    def typed(self, name, value, shape):
        t = self.st.model.shapes[shape["members"][name]["shape"]]["type"]
        if t == "integer":
            try:
                return int(value)
            except ValueError:
                raise S3Error(400, "InvalidArgument", f"{name} must be an integer",
                              ArgumentName=name, ArgumentValue=value)
        if t == "timestamp":
            try:
                return email.utils.parsedate_to_datetime(value).timestamp()
            except (TypeError, ValueError):
                return time.time()      # S3 ignores a conditional header it cannot parse
        return value

    def object_reply(self, obj, req):
        body = obj["body"]
        etag = '"' + hashlib.md5(body).hexdigest() + '"'
        mtime = obj["mtime"]
        if req.get("IfNoneMatch") in (etag, "*"):
            return 304, b"", [("ETag", etag)]
        if "IfMatch" in req and req["IfMatch"] not in (etag, "*"):
            raise S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you "
                          "specified did not hold", rejected=False, Condition="If-Match")
        status, part, extra = 200, body, []
        rng = req.get("Range")
        if rng:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if m and (m.group(1) or m.group(2)):
                size = len(body)
                if m.group(1):
                    start = int(m.group(1))
                    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                else:
                    start, end = max(0, size - int(m.group(2))), size - 1
                if start >= size or start > end:
                    raise S3Error(416, "InvalidRange", "The requested range is not "
                                  "satisfiable", rejected=False, RangeRequested=rng,
                                  ActualObjectSize=size)
                status, part = 206, body[start:end + 1]
                extra = [("Content-Range", f"bytes {start}-{end}/{size}")]
        out = {"AcceptRanges": "bytes", "LastModified": float(mtime), "ContentLength": len(part),
               "ETag": etag, "ContentType": obj["content_type"]}
        if extra:
            out["ContentRange"] = extra[0][1]
        errs = self.st.model.validate(self.st.model.output_shape("GetObject"), out)
        if errs:
            raise S3Error(500, "InternalError", "stand-in reply failed validation: " +
                          "; ".join(errs))
        return status, part, [("Content-Type", obj["content_type"]), ("ETag", etag),
                              ("Last-Modified", email.utils.formatdate(mtime, usegmt=True)),
                              ("Accept-Ranges", "bytes")] + extra

    # -- SigV4, S3's way --
    def verify_signature(self, method, raw_path, raw_query, body, entry):
        a = self.st.args
        q = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
        if "X-Amz-Signature" in q or "X-Amz-Credential" in q:
            raise S3Error(403, "AccessDenied", "presigned URLs are not served by this stand-in")
        header = self.headers.get("Authorization")
        if not header:
            raise S3Error(403, "AccessDenied", "Access Denied")
        auth = sigv4_verify.parse_authorization(header)
        if not auth:
            raise S3Error(400, "AuthorizationHeaderMalformed", "The authorization header is "
                          "malformed; the Credential, SignedHeaders and Signature are required.")
        entry.update(access_key=auth["access_key"], signed=auth["signed"],
                     content_sha256=self.headers.get("x-amz-content-sha256"),
                     token=bool(self.headers.get("X-Amz-Security-Token")))
        if auth["access_key"] != a.access_key:
            raise S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does "
                          "not exist in our records.", AWSAccessKeyId=auth["access_key"])
        amz_date = self.headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            raise S3Error(403, "AccessDenied", "AWS authentication requires a valid Date or "
                          "x-amz-date header")
        if auth["date"] != amz_date[:8]:
            raise S3Error(400, "AuthorizationHeaderMalformed", "The authorization header is "
                          f"malformed; Invalid credential date \"{auth['date']}\". This date is "
                          "not the same as X-Amz-Date: \"" + amz_date[:8] + "\".")
        if auth["region"] != a.region:
            raise S3Error(400, "AuthorizationHeaderMalformed", "The authorization header is "
                          f"malformed; the region '{auth['region']}' is wrong; expecting "
                          f"'{a.region}'", Region=a.region)
        if auth["service"] != "s3":
            raise S3Error(400, "AuthorizationHeaderMalformed", "The authorization header is "
                          f"malformed; incorrect service \"{auth['service']}\". This endpoint "
                          "belongs to \"s3\".")
        if abs(when - time.time()) > 15 * 60:
            raise S3Error(403, "RequestTimeTooSkewed", "The difference between the request "
                          "time and the current time is too large.", RequestTime=amz_date,
                          ServerTime=datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                          MaxAllowedSkewMilliseconds=900000)
        sha = self.headers.get("x-amz-content-sha256")
        if sha is None:
            raise S3Error(400, "InvalidRequest", "Missing required header for this request: "
                          "x-amz-content-sha256")
        if sha != "UNSIGNED-PAYLOAD" and not HEX64.fullmatch(sha):
            raise S3Error(400, "InvalidArgument", "x-amz-content-sha256 must be "
                          "UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid "
                          "sha256 value.", ArgumentName="x-amz-content-sha256",
                          ArgumentValue=sha)
        if sha != "UNSIGNED-PAYLOAD" and sha != hashlib.sha256(body).hexdigest():
            raise S3Error(400, "XAmzContentSHA256Mismatch", "The provided "
                          "'x-amz-content-sha256' header does not match what was computed.",
                          ClientComputedContentSHA256=sha,
                          S3ComputedContentSHA256=hashlib.sha256(body).hexdigest())
        if a.session_token:
            tok = self.headers.get("X-Amz-Security-Token")
            if tok is None:
                raise S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided "
                              "does not exist in our records.", AWSAccessKeyId=auth["access_key"])
            base, _, exp = tok.rpartition(".exp")
            if tok != a.session_token and not (base == a.session_token and exp.isdigit()):
                raise S3Error(400, "InvalidToken", "The provided token is malformed or "
                              "otherwise invalid.", Token=tok)
            if tok != a.session_token and time.time() >= int(exp):
                raise S3Error(400, "ExpiredToken", "The provided token has expired.",
                              Token=tok)
        present = {k.lower() for k in self.headers.keys()}
        unsigned = sorted(({"host"} | {h for h in present if h.startswith("x-amz-")}) -
                          set(auth["signed"]))
        if unsigned:
            raise S3Error(403, "AccessDenied", "There were headers present in the request which "
                          "were not signed", HeadersNotSigned=", ".join(unsigned))
        creq, sts, want = sigv4_verify.sign(
            method, urllib.parse.unquote(raw_path), raw_query, list(self.headers.items()), body,
            a.access_key, a.secret_key, a.region, "s3", amz_date, set(auth["signed"]),
            normalize=False, payload_hash=sha)
        if sigv4_verify.parse_authorization(want)["signature"] != auth["signature"]:
            raise S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated "
                          "does not match the signature you provided. Check your key and "
                          "signing method.", AWSAccessKeyId=auth["access_key"],
                          StringToSign=sts, SignatureProvided=auth["signature"],
                          CanonicalRequest=creq)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--objects", help='JSON file: {"s3://bucket/key": "text", ...}')
    ap.add_argument("--estate", help="an estate JSON whose `scripts` key holds objects")
    ap.add_argument("--access-key", default="AKIDEXAMPLE")
    ap.add_argument("--secret-key", default="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    ap.add_argument("--session-token", default=None)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--models", default=None)
    aws_model.add_shared_option(ap)
    args = aws_model.use_shared(ap.parse_args())
    state = State(args)
    return serve.serve(Handler, args.port, args.port_file, state=state)


if __name__ == "__main__":
    sys.exit(main())
