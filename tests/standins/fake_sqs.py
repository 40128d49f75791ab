#!/usr/bin/python3
"""A fake Amazon SQS (JSON 1.0 protocol, awsQueryCompatible) on 127.0.0.1
that holds itself to AWS's specifications the way fake_glue.py does: every
request's SigV4 signature is verified (sigv4_verify.py, service `sqs`),
every request body is validated against the operation's input shape in
SQS's service model (../shared/aws-models/sqs), every reply against its
output shape.  Standard-queue semantics: at-least-once delivery, a
visibility timeout after each receive, a new receipt handle per receive,
long polling woken at once by a send.  See README.md for the control API.

Where a behaviour matters it follows the SQS API Reference:
- DeleteMessage: "If you receive a message more than once, the receipt
  handle you get each time is different ... if you don't provide the most
  recently received receipt handle for the message, the request will still
  succeed, but the message might not be deleted."  Here: a superseded
  handle succeeds and deletes nothing (counted in the queue's
  `stale_deletes`); `"stale_receipt": "invalid"` in /__fake/config makes
  it fail with ReceiptHandleIsInvalid instead.  A handle this queue never
  issued is ReceiptHandleIsInvalid.  Deleting an already deleted message
  with its latest handle succeeds.
- Error codes and HTTP statuses are those of the Smithy model's
  aws.protocols#awsQueryError traits (QueueDoesNotExist ->
  AWS.SimpleQueueService.NonExistentQueue 400, ReceiptHandleIsInvalid 404,
  RequestThrottled 403, the batch errors 400), sent as
  {"__type": "com.amazonaws.sqs#<Shape>", "message": ...} with the header
  `x-amzn-query-error: <query code>;Sender|Receiver`."""
import argparse
import base64
import datetime
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import aws_model  # noqa: E402
import serve  # noqa: E402
import sigv4_verify  # noqa: E402

CONTENT_TYPE = "application/x-amz-json-1.0"
OPS = ["ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility",
       "SendMessage", "GetQueueUrl", "GetQueueAttributes"]
SQS_NS = "com.amazonaws.sqs#"
CORAL = "com.amazon.coral.service#"

# Modelled errors: shape -> (HTTP status, awsQueryError code), from the Smithy
# model's aws.protocols#awsQueryError / smithy.api#httpError traits.
MODELLED = {
    "QueueDoesNotExist": (400, "AWS.SimpleQueueService.NonExistentQueue"),
    "ReceiptHandleIsInvalid": (404, "ReceiptHandleIsInvalid"),
    "RequestThrottled": (403, "RequestThrottled"),
    "BatchEntryIdsNotDistinct": (400, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
    "EmptyBatchRequest": (400, "AWS.SimpleQueueService.EmptyBatchRequest"),
    "TooManyEntriesInBatchRequest": (400, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
    "InvalidBatchEntryId": (400, "AWS.SimpleQueueService.InvalidBatchEntryId"),
    "MessageNotInflight": (400, "AWS.SimpleQueueService.MessageNotInflight"),
    "InvalidAttributeName": (400, "InvalidAttributeName"),
    "InvalidMessageContents": (400, "InvalidMessageContents"),
    "InvalidAddress": (404, "InvalidAddress"),
    "OverLimit": (403, "OverLimit"),
    "UnsupportedOperation": (400, "AWS.SimpleQueueService.UnsupportedOperation"),
}

MAX_BODY_BYTES = 1048576          # "The maximum size is 1 MiB or 1,048,576 bytes" (SendMessage)
MAX_VISIBILITY = 43200            # ChangeMessageVisibility: 0 to 43200 seconds
BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
BODY_OK = re.compile("[\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


class SqsError(Exception):
    """An error reply.  shape: a modelled exception (MODELLED) or a coral/
    common error given with its status and query code."""

    def __init__(self, shape, message, status=None, query=None, sender=True, coral=False):
        super().__init__(message)
        st, q = MODELLED.get(shape, (400, shape))
        self.shape, self.message = shape, message
        self.status = status if status is not None else st
        self.query = query or q
        self.sender = sender
        self.type = (CORAL if coral else SQS_NS) + shape


def invalid_parameter(message):
    # SQS's common error InvalidParameterValue (400), not a modelled shape
    return SqsError("InvalidParameterValue", message, 400, "InvalidParameterValue")


class Message:
    def __init__(self, body, sent_ms):
        self.id = str(uuid.uuid4())
        self.body = body
        self.md5 = hashlib.md5(body.encode("utf-8")).hexdigest()
        self.sent_ms = sent_ms
        self.first_receive_ms = None
        self.receive_count = 0
        self.visible_at = 0.0         # time.monotonic() from which it can be received
        self.receipt = None           # the latest receipt handle
        self.deleted = False
        self.delete_count = 0         # accepted deletes with the latest handle
        self.stale_deletes = 0        # deletes with a superseded handle (nothing deleted)

    def state(self, now):
        if self.deleted:
            return "deleted"
        return "visible" if now >= self.visible_at else "in_flight"


class Queue:
    def __init__(self, name, visibility_timeout):
        self.name = name
        self.visibility_timeout = visibility_timeout
        self.messages = []            # in send order, deleted ones kept for inspection
        self.handles = {}             # receipt handle -> Message
        self.created = int(time.time())


class State:
    def __init__(self, args):
        self.args = args
        self.model = aws_model.model("sqs", args.models)
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.reset_all()

    def reset_all(self):
        self.latency_ms = self.args.latency_ms
        self.faults = []
        self.fail_deletes = 0
        self.stale_receipt = "ignore"
        self.default_visibility = 30
        self.queues = {}
        for name in self.args.queue or ["glue-events"]:
            self.queues[name] = Queue(name, self.default_visibility)
        self.in_flight = 0
        self.long_polls = 0
        self.reset_stats()

    def reset_stats(self):
        self.counts = {}
        self.total = 0
        self.rejected = []
        self.max_in_flight = 0
        self.max_long_polls = 0
        self.tcp_accepted = 0

    def queue_url(self, name):
        return f"https://sqs.{self.args.region}.amazonaws.com/{self.args.account}/{name}"

    def send(self, queue, body):
        """Appends a message (lock held) and wakes the long polls."""
        m = Message(body, int(time.time() * 1000))
        queue.messages.append(m)
        self.cond.notify_all()
        return m


def queue_view(q, now):
    msgs = []
    counts = {"visible": 0, "in_flight": 0, "deleted": 0}
    for m in q.messages:
        st = m.state(now)
        counts[st] += 1
        v = {"MessageId": m.id, "Body": m.body, "state": st, "receive_count": m.receive_count,
             "delete_count": m.delete_count, "stale_deletes": m.stale_deletes,
             "sent_timestamp": m.sent_ms}
        if st == "in_flight":
            v["visible_in"] = round(m.visible_at - now, 3)
        msgs.append(v)
    return {"name": q.name, "visibility_timeout": q.visibility_timeout, "messages": msgs,
            "counts": counts}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-sqs/1"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        with self.st.lock:
            self.st.tcp_accepted += 1

    @property
    def st(self):
        return self.server.state

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_raw(self, status, data, ctype=CONTENT_TYPE, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_error_json(self, e):
        data = json.dumps({"__type": e.type, "message": e.message}).encode()
        self.send_raw(e.status, data, headers=[
            ("x-amzn-query-error", f"{e.query};{'Sender' if e.sender else 'Receiver'}")])

    # -- control API --
    def control(self, method, body):
        st = self.st
        url = urllib.parse.urlsplit(self.path)
        path, qs = url.path, urllib.parse.parse_qs(url.query)
        try:
            req = json.loads(body) if body else {}
        except ValueError:
            return 400, {"message": "the body is not JSON"}
        with st.lock:
            if method == "GET" and path == "/__fake/stats":
                return 200, {"counts": st.counts, "total": st.total, "rejected": st.rejected,
                             "in_flight": st.in_flight, "max_in_flight": st.max_in_flight,
                             "long_polls": st.long_polls, "max_long_polls": st.max_long_polls,
                             "tcp_connections": st.tcp_accepted}
            if method == "POST" and path == "/__fake/stats/reset":
                st.reset_stats()
                return 200, {}
            if method == "POST" and path == "/__fake/reset":
                st.reset_all()
                st.cond.notify_all()
                return 200, {}
            if method == "GET" and path == "/__fake/faults":
                return 200, {"faults": st.faults}
            if method == "POST" and path == "/__fake/send":
                name = req.get("queue") or next(iter(st.queues), None)
                q = st.queues.get(name)
                if q is None:
                    return 404, {"message": f"no queue {name!r}"}
                if not isinstance(req.get("body"), str) or not req["body"]:
                    return 400, {"message": "body: a non-empty string"}
                m = st.send(q, req["body"])
                return 200, {"MessageId": m.id, "MD5OfMessageBody": m.md5}
            if method == "GET" and path == "/__fake/queue":
                name = (qs.get("name") or [next(iter(st.queues), None)])[0]
                q = st.queues.get(name)
                if q is None:
                    return 404, {"message": f"no queue {name!r}"}
                out = queue_view(q, time.monotonic())
                out["url"] = st.queue_url(q.name)
                return 200, out
            if method == "POST" and path == "/__fake/queue":
                name = req.get("name")
                if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", name):
                    return 400, {"message": "name: 1-80 of A-Z a-z 0-9 _ -"}
                st.queues.setdefault(name, Queue(name, st.default_visibility))
                return 200, {"QueueUrl": st.queue_url(name)}
            if method == "POST" and path == "/__fake/config":
                if "faults" in req:
                    try:
                        serve.check_faults(req["faults"])
                    except ValueError as e:
                        return 400, {"message": str(e)}
                if "stale_receipt" in req and req["stale_receipt"] not in ("ignore", "invalid"):
                    return 400, {"message": "stale_receipt: ignore or invalid"}
                if "latency_ms" in req:
                    st.latency_ms = int(req["latency_ms"])
                if "faults" in req:
                    st.faults = [dict(f, hits=0) for f in req["faults"]]
                if "visibility_timeout" in req:
                    vt = int(req["visibility_timeout"])
                    for q in st.queues.values() if not req.get("queue") else \
                            [st.queues[req["queue"]]] if req["queue"] in st.queues else []:
                        q.visibility_timeout = vt
                    if not req.get("queue"):
                        st.default_visibility = vt
                if "fail_deletes" in req:
                    st.fail_deletes = int(req["fail_deletes"])
                if "stale_receipt" in req:
                    st.stale_receipt = req["stale_receipt"]
                return 200, {}
        return 404, {"message": "unknown control path"}

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def dispatch(self, method):
        body = self.read_body()
        if self.path.startswith("/__fake/"):
            status, obj = self.control(method, body)
            data = json.dumps(obj, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        st = self.st
        with st.lock:
            st.in_flight += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
        try:
            if st.latency_ms:
                time.sleep(st.latency_ms / 1000.0)
            self.api(method, body)
        finally:
            with st.lock:
                st.in_flight -= 1

    def reject(self, op, e):
        with self.st.lock:
            self.st.rejected.append({"op": op, "code": e.query, "type": e.type,
                                     "reason": e.message})
        self.send_error_json(e)

    def verify_signature(self, method, body):
        st = self.st
        args = st.args
        raw = self.headers.get("Authorization")
        if not raw:
            raise SqsError("MissingAuthenticationTokenException",
                           "Request is missing Authentication Token", 403,
                           "MissingAuthenticationToken", coral=True)
        auth = sigv4_verify.parse_authorization(raw)
        if not auth:
            raise SqsError("IncompleteSignatureException",
                           "Authorization header requires 'Credential', 'Signature' and "
                           "'SignedHeaders' parameters", 400, "IncompleteSignature", coral=True)
        if auth["access_key"] != args.access_key:
            raise SqsError("UnrecognizedClientException",
                           "The security token included in the request is invalid.", 403,
                           "InvalidClientTokenId", coral=True)
        amz_date = self.headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            raise SqsError("IncompleteSignatureException", "X-Amz-Date is missing or malformed",
                           400, "IncompleteSignature", coral=True)
        if abs(when - time.time()) > 15 * 60:
            raise SqsError("InvalidSignatureException",
                           f"Signature expired: {amz_date} is now earlier or later than the "
                           f"allowed 15 minutes", 403, "SignatureDoesNotMatch", coral=True)
        if auth["date"] != amz_date[:8] or auth["region"] != args.region or \
                auth["service"] != "sqs":
            raise SqsError("InvalidSignatureException",
                           f"Credential should be scoped to a valid region and service: "
                           f"{auth['date']}/{auth['region']}/{auth['service']}", 403,
                           "SignatureDoesNotMatch", coral=True)
        need = {"host", "x-amz-date", "x-amz-target", "content-type"}
        if args.session_token:
            need.add("x-amz-security-token")
            tok = self.headers.get("X-Amz-Security-Token") or ""
            base, _, exp = tok.rpartition(".exp")
            # tokens from the fake STS carry their end: "<token>.exp<epoch>"
            if tok != args.session_token and not (base == args.session_token and exp.isdigit()):
                raise SqsError("UnrecognizedClientException",
                               "The security token included in the request is invalid.", 403,
                               "InvalidClientTokenId", coral=True)
            if tok != args.session_token and time.time() >= int(exp):
                raise SqsError("ExpiredTokenException",
                               "The security token included in the request is expired", 403,
                               "ExpiredToken", coral=True)
        missing = need - set(auth["signed"])
        if missing:
            raise SqsError("InvalidSignatureException",
                           f"headers not signed: {', '.join(sorted(missing))}", 403,
                           "SignatureDoesNotMatch", coral=True)
        path, _, query = self.path.partition("?")
        headers = list(self.headers.items())
        _, _, want = sigv4_verify.sign(method, path, query, headers, body, args.access_key,
                                       args.secret_key, args.region, "sqs", amz_date,
                                       set(auth["signed"]))
        if sigv4_verify.parse_authorization(want)["signature"] != auth["signature"]:
            raise SqsError("InvalidSignatureException",
                           "The request signature we calculated does not match the signature "
                           "you provided. Check your AWS Secret Access Key and signing method.",
                           403, "SignatureDoesNotMatch", coral=True)

    def api(self, method, body):
        st = self.st
        target = self.headers.get("X-Amz-Target", "")
        op = target[len("AmazonSQS."):] if target.startswith("AmazonSQS.") else target or "?"
        with st.lock:
            st.counts[op] = st.counts.get(op, 0) + 1
            st.total += 1
        try:
            if method != "POST" or self.path != "/":
                raise SqsError("UnknownOperationException",
                               "the JSON protocol is POST / (this stand-in serves nothing else)",
                               400, "InvalidAction", coral=True)
            self.verify_signature(method, body)
            ctype = self.headers.get("Content-Type", "")
            if ctype != CONTENT_TYPE:
                # application/x-www-form-urlencoded is SQS's older query protocol,
                # which the real service still answers (in XML); not served here
                raise SqsError("SerializationException",
                               f"Content-Type must be {CONTENT_TYPE} (got {ctype or 'none'}; "
                               f"the query protocol is not served by this stand-in)",
                               400, "SerializationException", coral=True)
            known = getattr(st.model, "ops", None)
            if not target.startswith("AmazonSQS.") or (known is not None and op not in known):
                raise SqsError("UnknownOperationException", f"unknown operation {target}",
                               400, "InvalidAction", coral=True)
            if op not in OPS:
                raise SqsError("UnknownOperationException",
                               f"{op} is in SQS's model but not served by this stand-in",
                               400, "InvalidAction", coral=True)
            try:
                req = json.loads(body)
            except ValueError:
                raise SqsError("SerializationException", "the body is not JSON", 400,
                               "SerializationException", coral=True)
            errs = st.model.validate(st.model.input_shape(op), req)
            if errs:
                attr = [e for e in errs
                        if "attributenames" in e.lower() and "enum value set" in e]
                if attr and len(attr) == len(errs):
                    bad = re.match(r"Value '([^']*)'", attr[0])
                    raise SqsError("InvalidAttributeName",
                                   f"Unknown Attribute {bad.group(1) if bad else '?'}.")
                e = SqsError("ValidationException",
                             f"{len(errs)} validation error{'s' if len(errs) > 1 else ''} "
                             f"detected: " + "; ".join(errs), 400, "ValidationError")
                e.type = "com.amazon.coral.validate#ValidationException"
                raise e
            self.check(op, req)
        except SqsError as e:
            self.reject(op, e)
            return
        try:
            self.inject(op, req)
            out = getattr(self, "op_" + op)(req)
        except serve.Misbehave as m:
            serve.misbehave(self, m.fault, CONTENT_TYPE)
            return
        except SqsError as e:
            self.send_error_json(e)
            return
        out_shape = st.model.output_shape(op)
        errs = st.model.validate(out_shape, out) if out_shape else []
        if errs:
            with st.lock:
                st.rejected.append({"op": op, "code": "InvalidResponse",
                                    "reason": "the stand-in's own reply: " + "; ".join(errs[:5])})
            self.send_error_json(SqsError("InternalError", "stand-in reply failed validation",
                                          500, "InternalError", sender=False))
            return
        self.send_raw(200, json.dumps(out, ensure_ascii=False).encode())

    def check(self, op, req):
        """SQS's own checks of values the model leaves open (its documented
        ranges), answered InvalidParameterValue as SQS does."""
        def rng(member, lo, hi):
            v = req.get(member)
            if v is not None and not lo <= v <= hi:
                raise invalid_parameter(f"Value {v} for parameter {member} is invalid. Reason: "
                                        f"Must be between {lo} and {hi}, if provided.")
        if op == "ReceiveMessage":
            rng("MaxNumberOfMessages", 1, 10)
            rng("WaitTimeSeconds", 0, 20)
            rng("VisibilityTimeout", 0, MAX_VISIBILITY)
        elif op == "ChangeMessageVisibility":
            rng("VisibilityTimeout", 0, MAX_VISIBILITY)
        elif op == "SendMessage":
            rng("DelaySeconds", 0, 900)
            b = req["MessageBody"]
            if not b:
                raise SqsError("MissingParameter",
                               "The request must contain the parameter MessageBody.", 400,
                               "MissingParameter")
            if len(b.encode("utf-8")) > MAX_BODY_BYTES:
                raise invalid_parameter(f"One or more parameters are invalid. Reason: Message "
                                        f"must be shorter than {MAX_BODY_BYTES} bytes.")
            if not BODY_OK.fullmatch(b):
                raise SqsError("InvalidMessageContents",
                               "Invalid binary character in the message body")
        elif op == "DeleteMessageBatch":
            entries = req["Entries"]
            if not entries:
                raise SqsError("EmptyBatchRequest",
                               "There should be at least one DeleteMessageBatchRequestEntry "
                               "in the request.")
            if len(entries) > 10:
                raise SqsError("TooManyEntriesInBatchRequest",
                               f"Maximum number of entries per request are 10. You have sent "
                               f"{len(entries)}.")
            seen = set()
            for e in entries:
                if not BATCH_ID.fullmatch(e["Id"]):
                    raise SqsError("InvalidBatchEntryId",
                                   "A batch entry id can only contain alphanumeric characters, "
                                   "hyphens and underscores. It can be at most 80 letters long.")
                if e["Id"] in seen:
                    raise SqsError("BatchEntryIdsNotDistinct", f"Id {e['Id']} repeated.")
                seen.add(e["Id"])

    def inject(self, op, req):
        st = self.st
        with st.lock:
            qname = None
            try:
                qname = self.parse_url(req["QueueUrl"])[1] if "QueueUrl" in req else \
                    req.get("QueueName")
            except SqsError:
                pass
            for f in st.faults:
                if f.get("op") not in (None, op) or f.get("times", -1) == 0:
                    continue
                if "queue" in f and f["queue"] != qname:
                    continue
                if f.get("times", -1) > 0:
                    f["times"] -= 1
                f["hits"] = f.get("hits", 0) + 1
                if "action" in f:
                    raise serve.Misbehave(f)
                err = f.get("error", "InternalError")
                status, query = MODELLED.get(err, (500 if err in ("InternalError",
                                                                  "ServiceUnavailable")
                                                   else 400, err))
                status = int(f.get("status", status))
                raise SqsError(err, f.get("message", "injected fault"), status, query,
                               sender=status < 500)

    # -- operations --
    def parse_url(self, url):
        """(account, name) of a queue URL; its host is not looked at."""
        parts = urllib.parse.urlsplit(url)
        segs = parts.path.strip("/").split("/")
        if not parts.scheme or not parts.netloc or len(segs) != 2 or not all(segs):
            raise SqsError("InvalidAddress", f"The address {url} is not valid for this endpoint.")
        return segs[0], segs[1]

    def queue(self, url):
        account, name = self.parse_url(url)
        q = self.st.queues.get(name) if account == self.st.args.account else None
        if q is None:
            raise SqsError("QueueDoesNotExist", "The specified queue does not exist.")
        return q

    def new_receipt(self, q, m):
        raw = os.urandom(24) + m.id.encode() + q.name.encode()[:40]
        h = base64.b64encode(raw).decode()
        q.handles[h] = m
        m.receipt = h
        return h

    def lookup(self, q, handle):
        """The message a receipt handle names and whether it is the latest one."""
        m = q.handles.get(handle)
        if m is None:
            raise SqsError("ReceiptHandleIsInvalid",
                           f'The input receipt handle "{handle}" is not a valid receipt handle.')
        return m, m.receipt == handle

    def op_GetQueueUrl(self, req):
        if req.get("QueueOwnerAWSAccountId") not in (None, self.st.args.account) or \
                req["QueueName"] not in self.st.queues:
            raise SqsError("QueueDoesNotExist", "The specified queue does not exist.")
        return {"QueueUrl": self.st.queue_url(req["QueueName"])}

    def op_SendMessage(self, req):
        st = self.st
        with st.lock:
            q = self.queue(req["QueueUrl"])
            m = st.send(q, req["MessageBody"])
            if req.get("DelaySeconds"):
                m.visible_at = time.monotonic() + req["DelaySeconds"]
        return {"MD5OfMessageBody": m.md5, "MessageId": m.id}

    def op_ReceiveMessage(self, req):
        st = self.st
        want = req.get("MaxNumberOfMessages") or 1
        wait = req.get("WaitTimeSeconds") or 0
        names = set(req.get("MessageSystemAttributeNames") or []) | \
            set(req.get("AttributeNames") or [])
        with st.lock:
            q = self.queue(req["QueueUrl"])
            vt = req.get("VisibilityTimeout")
            end = time.monotonic() + wait
            counted = False
            try:
                while True:
                    now = time.monotonic()
                    ready = [m for m in q.messages if not m.deleted and m.visible_at <= now]
                    if ready or now >= end:
                        break
                    if not counted:
                        st.long_polls += 1
                        st.max_long_polls = max(st.max_long_polls, st.long_polls)
                        counted = True
                    nxt = min((m.visible_at for m in q.messages
                               if not m.deleted and m.visible_at > now), default=end)
                    st.cond.wait(max(0.001, min(end, nxt) - now))
            finally:
                if counted:
                    st.long_polls -= 1
            out = []
            now_ms = int(time.time() * 1000)
            timeout = q.visibility_timeout if vt is None else vt
            for m in ready[:want]:
                m.receive_count += 1
                if m.first_receive_ms is None:
                    m.first_receive_ms = now_ms
                m.visible_at = time.monotonic() + timeout
                msg = {"MessageId": m.id, "ReceiptHandle": self.new_receipt(q, m),
                       "MD5OfBody": m.md5, "Body": m.body}
                attrs = {}
                every = "All" in names
                if every or "ApproximateReceiveCount" in names:
                    attrs["ApproximateReceiveCount"] = str(m.receive_count)
                if every or "SentTimestamp" in names:
                    attrs["SentTimestamp"] = str(m.sent_ms)
                if every or "ApproximateFirstReceiveTimestamp" in names:
                    attrs["ApproximateFirstReceiveTimestamp"] = str(m.first_receive_ms)
                if every or "SenderId" in names:
                    attrs["SenderId"] = st.args.access_key
                if attrs:
                    msg["Attributes"] = attrs
                out.append(msg)
        return {"Messages": out} if out else {}

    def delete(self, q, handle):
        """Deletes by receipt handle (lock held); raises ReceiptHandleIsInvalid."""
        m, latest = self.lookup(q, handle)
        if not latest:
            if self.st.stale_receipt == "invalid":
                raise SqsError("ReceiptHandleIsInvalid",
                               f'The receipt handle "{handle}" has been superseded by a later '
                               f'receive.')
            m.stale_deletes += 1
            return
        m.deleted = True
        m.delete_count += 1

    def op_DeleteMessage(self, req):
        st = self.st
        with st.lock:
            q = self.queue(req["QueueUrl"])
            self.lookup(q, req["ReceiptHandle"])
            if st.fail_deletes > 0:
                st.fail_deletes -= 1
                raise SqsError("InternalError", "We encountered an internal error. Please try "
                               "again.", 500, "InternalError", sender=False)
            self.delete(q, req["ReceiptHandle"])
        return {}

    def op_DeleteMessageBatch(self, req):
        st = self.st
        ok, failed = [], []
        with st.lock:
            q = self.queue(req["QueueUrl"])
            for e in req["Entries"]:
                try:
                    self.lookup(q, e["ReceiptHandle"])
                    if st.fail_deletes > 0:
                        st.fail_deletes -= 1
                        failed.append({"Id": e["Id"], "SenderFault": False, "Code": "InternalError",
                                       "Message": "We encountered an internal error. Please try "
                                                  "again."})
                        continue
                    self.delete(q, e["ReceiptHandle"])
                    ok.append({"Id": e["Id"]})
                except SqsError as err:
                    failed.append({"Id": e["Id"], "SenderFault": err.sender, "Code": err.shape,
                                   "Message": err.message})
        return {"Successful": ok, "Failed": failed}

    def op_ChangeMessageVisibility(self, req):
        st = self.st
        with st.lock:
            q = self.queue(req["QueueUrl"])
            m, latest = self.lookup(q, req["ReceiptHandle"])
            now = time.monotonic()
            if not latest and st.stale_receipt == "invalid":
                raise SqsError("ReceiptHandleIsInvalid",
                               f'The receipt handle "{req["ReceiptHandle"]}" has been superseded '
                               f'by a later receive.')
            if m.deleted or m.visible_at <= now:
                raise SqsError("MessageNotInflight",
                               "Value for parameter ReceiptHandle is invalid. Reason: Message "
                               "does not exist or is not available for visibility timeout change.")
            if latest:
                m.visible_at = now + req["VisibilityTimeout"]
                if req["VisibilityTimeout"] == 0:
                    st.cond.notify_all()
        return {}

    def op_GetQueueAttributes(self, req):
        st = self.st
        names = set(req.get("AttributeNames") or [])
        with st.lock:
            q = self.queue(req["QueueUrl"])
            now = time.monotonic()
            states = [m.state(now) for m in q.messages]
            have = {
                "ApproximateNumberOfMessages": str(states.count("visible")),
                "ApproximateNumberOfMessagesNotVisible": str(states.count("in_flight")),
                "ApproximateNumberOfMessagesDelayed": "0",
                "VisibilityTimeout": str(q.visibility_timeout),
                "CreatedTimestamp": str(q.created),
                "LastModifiedTimestamp": str(q.created),
                "QueueArn": f"arn:aws:sqs:{st.args.region}:{st.args.account}:{q.name}",
                "DelaySeconds": "0",
                "ReceiveMessageWaitTimeSeconds": "0",
                "MaximumMessageSize": str(MAX_BODY_BYTES),
                "MessageRetentionPeriod": "345600",
                "SqsManagedSseEnabled": "true",
            }
        attrs = have if "All" in names else {k: v for k, v in have.items() if k in names}
        return {"Attributes": attrs} if attrs else {}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--access-key", default="AKIDEXAMPLE")
    ap.add_argument("--secret-key", default="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    ap.add_argument("--session-token", default=None)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--account", default="123456789012")
    ap.add_argument("--queue", action="append",
                    help="a queue to create (repeatable; default: glue-events)")
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--models", default=None)
    aws_model.add_shared_option(ap)
    args = aws_model.use_shared(ap.parse_args())
    return serve.serve(Handler, args.port, args.port_file, state=State(args))


if __name__ == "__main__":
    sys.exit(main())
