#!/usr/bin/python3
"""A fake AWS STS (query protocol, XML replies): AssumeRole, signed with
SigV4 and verified by sigv4_verify.py against the base credentials, and
AssumeRoleWithWebIdentity, unsigned, checked against the expected web
identity token.  Both hand out the configured temporary credentials, with
a session token that carries its own end ("<token>.exp<epoch>", which the
fake Glue enforces) after --lifetime seconds; --advertised-lifetime makes
the <Expiration> it announces differ from that, as a clock or a revoked
session would.  GetCallerIdentity answers for either the base or the issued
credentials (SigV4 verified, the reply checked against STS's service
model)."""
import argparse
import datetime
import hashlib
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import aws_model  # noqa: E402
import serve  # noqa: E402
import sigv4_verify  # noqa: E402

NS = "https://sts.amazonaws.com/doc/2011-06-15/"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, xml):
        data = xml.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, code, msg, params):
        with self.server.st["lock"]:
            self.server.st["requests"].append(dict(params, ok=False, code=code))
        self.reply(status, f'<ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type>'
                           f"<Code>{code}</Code><Message>{escape(msg)}</Message></Error>"
                           "<RequestId>fake</RequestId></ErrorResponse>")

    def do_GET(self):
        if self.path == "/__fake/requests":
            with self.server.st["lock"]:
                data = json.dumps(self.server.st["requests"])
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data.encode())
            return
        self.reply(404, "")

    def do_PUT(self):
        if self.path == "/__fake/reset":
            with self.server.st["lock"]:
                self.server.st["requests"].clear()
                self.server.st["faults"] = []
        elif self.path == "/__fake/faults":
            # [{"action": "GetCallerIdentity", "status": 403, "code": "AccessDenied"}
            #  or {"action": ..., "fault": "reset"|"stall"|"truncate"} (serve.misbehave)
            #  or {"action": ..., "raw_body": "..."}], each "times" (default -1: always)
            faults = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            with self.server.st["lock"]:
                self.server.st["faults"] = faults
        self.reply(200, "")

    def injected(self, params):
        """Answers with a configured fault for this action; True when it did."""
        with self.server.st["lock"]:
            for f in self.server.st.get("faults", []):
                if f.get("action") != params.get("Action") or f.get("times", -1) == 0:
                    continue
                if f.get("times", -1) > 0:
                    f["times"] -= 1
                break
            else:
                return False
        if "fault" in f:
            serve.misbehave(self, dict(f, action=f["fault"]), "text/xml")
        elif "raw_body" in f:
            self.reply(int(f.get("status", 200)), f["raw_body"])
        else:
            self.error(int(f.get("status", 500)), f.get("code", "InternalFailure"),
                       f.get("message", "injected fault"), params)
        return True

    def do_POST(self):
        a = self.server.args
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        params = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        action = params.get("Action")
        if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return self.error(400, "InvalidParameterValue", "bad content type", params)
        if self.injected(params):
            return None
        if action == "GetCallerIdentity":
            return self.caller_identity(body, params)
        if params.get("Version") != "2011-06-15" or not params.get("RoleArn") or \
                not 2 <= len(params.get("RoleSessionName", "")) <= 64:
            return self.error(400, "ValidationError", "missing or invalid parameters", params)
        if action == "AssumeRole":
            auth = sigv4_verify.parse_authorization(self.headers.get("Authorization"))
            if not auth or auth["access_key"] != a.base_access_key:
                return self.error(403, "InvalidClientTokenId", "The security token included "
                                  "in the request is invalid.", params)
            if auth["service"] != "sts" or auth["region"] != a.region:
                return self.error(403, "SignatureDoesNotMatch", "wrong credential scope", params)
            headers = list(self.headers.items())
            _, _, want = sigv4_verify.sign("POST", self.path, "", headers, body,
                                           a.base_access_key, a.base_secret_key, a.region, "sts",
                                           self.headers.get("X-Amz-Date", ""), set(auth["signed"]))
            if sigv4_verify.parse_authorization(want)["signature"] != auth["signature"]:
                return self.error(403, "SignatureDoesNotMatch", "The request signature we "
                                  "calculated does not match", params)
            if params["RoleArn"] != a.role_arn:
                return self.error(403, "AccessDenied", f"not authorized to assume "
                                  f"{params['RoleArn']}", params)
        elif action == "AssumeRoleWithWebIdentity":
            if self.headers.get("Authorization"):
                return self.error(400, "InvalidParameterValue", "must not be signed", params)
            if params.get("WebIdentityToken") != a.web_identity_token:
                return self.error(400, "InvalidIdentityToken", "token rejected", params)
        else:
            return self.error(400, "InvalidAction", f"unknown action {action}", params)
        with self.server.st["lock"]:
            issued = sum(1 for r in self.server.st["requests"]
                         if r["ok"] and r.get("Action") != "GetCallerIdentity")
        if a.fail_after is not None and issued >= a.fail_after:
            return self.error(403, "AccessDenied", "the role's trust policy no longer allows "
                              "this principal", params)
        with self.server.st["lock"]:
            self.server.st["requests"].append(dict(params, ok=True,
                                                   WebIdentityToken=bool(params.get("WebIdentityToken"))))
        now = time.time()
        adv = a.advertised_lifetime if a.advertised_lifetime is not None else a.lifetime
        exp = datetime.datetime.utcfromtimestamp(now + adv).strftime("%Y-%m-%dT%H:%M:%S.123456Z")
        token = f"{a.session_token}.exp{int(now + a.lifetime)}"
        self.reply(200, f'<{action}Response xmlns="{NS}"><{action}Result>'
                        "<AssumedRoleUser><AssumedRoleId>AROAFAKE:s</AssumedRoleId>"
                        f"<Arn>{escape(params['RoleArn'])}</Arn></AssumedRoleUser>"
                        f"<Credentials><AccessKeyId>{escape(a.access_key)}</AccessKeyId>"
                        f"<SecretAccessKey>{escape(a.secret_key)}</SecretAccessKey>"
                        f"<SessionToken>{escape(token)}</SessionToken>"
                        f"<Expiration>{exp}</Expiration></Credentials>"
                        f"</{action}Result><ResponseMetadata><RequestId>fake</RequestId>"
                        f"</ResponseMetadata></{action}Response>")

    def caller_identity(self, body, params):
        """GetCallerIdentity: the query protocol's POST with a form body, signed with
        either the base credentials or the issued temporary ones (then with their
        session token)."""
        a = self.server.args
        if params.get("Version") != "2011-06-15":
            return self.error(400, "InvalidAction", "Could not find operation GetCallerIdentity "
                              f"for version {params.get('Version')}", params)
        auth = sigv4_verify.parse_authorization(self.headers.get("Authorization"))
        if not auth:
            return self.error(403, "MissingAuthenticationToken",
                              "Request is missing Authentication Token", params)
        key = auth["access_key"]
        if key == a.base_access_key:
            secret, temporary = a.base_secret_key, False
        elif key == a.access_key:
            secret, temporary = a.secret_key, True
        else:
            return self.error(403, "InvalidClientTokenId", "The security token included in the "
                              "request is invalid.", params)
        amz_date = self.headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            return self.error(400, "IncompleteSignature", "X-Amz-Date is missing or malformed",
                              params)
        if abs(when - time.time()) > 15 * 60:
            return self.error(403, "SignatureDoesNotMatch", f"Signature expired: {amz_date} is "
                              "now earlier or later than the allowed 15 minutes", params)
        if auth["service"] != "sts" or auth["region"] != a.region or auth["date"] != amz_date[:8]:
            return self.error(403, "SignatureDoesNotMatch", "Credential should be scoped to a "
                              f"valid region and service: {auth['region']}/{auth['service']}",
                              params)
        need = {"host", "x-amz-date"}
        if temporary:
            need.add("x-amz-security-token")
            tok = self.headers.get("X-Amz-Security-Token") or ""
            base, _, exp = tok.rpartition(".exp")
            if tok != a.session_token and not (base == a.session_token and exp.isdigit()):
                return self.error(403, "InvalidClientTokenId", "The security token included in "
                                  "the request is invalid.", params)
            if tok != a.session_token and time.time() >= int(exp):
                return self.error(403, "ExpiredToken", "The security token included in the "
                                  "request is expired", params)
        missing = need - set(auth["signed"])
        if missing:
            return self.error(403, "SignatureDoesNotMatch", "headers not signed: " +
                              ", ".join(sorted(missing)), params)
        _, _, want = sigv4_verify.sign("POST", self.path, "", list(self.headers.items()), body,
                                       key, secret, a.region, "sts", amz_date, set(auth["signed"]))
        if sigv4_verify.parse_authorization(want)["signature"] != auth["signature"]:
            return self.error(403, "SignatureDoesNotMatch", "The request signature we "
                              "calculated does not match the signature you provided.", params)
        if temporary:
            with self.server.st["lock"]:
                sessions = [r.get("RoleSessionName") for r in self.server.st["requests"]
                            if r["ok"] and r.get("RoleSessionName")]
            session = sessions[-1] if sessions else "session"
            role = a.role_arn.rsplit("/", 1)[-1]
            out = {"UserId": f"AROAFAKEROLEID0000001:{session}", "Account": a.account,
                   "Arn": f"arn:aws:sts::{a.account}:assumed-role/{role}/{session}"}
        else:
            out = {"UserId": "AIDA" + hashlib.sha256(key.encode()).hexdigest()[:17].upper(),
                   "Account": a.account, "Arn": f"arn:aws:iam::{a.account}:user/gluemetad"}
        errs = self.server.model.validate(self.server.model.output_shape("GetCallerIdentity"), out)
        if errs:
            return self.error(500, "InternalFailure", "stand-in reply failed validation: " +
                              "; ".join(errs), params)
        with self.server.st["lock"]:
            self.server.st["requests"].append(dict(params, ok=True, AccessKeyId=key))
        rid = hashlib.sha256(f"{time.time()}{key}".encode()).hexdigest()
        rid = f"{rid[:8]}-{rid[8:12]}-{rid[12:16]}-{rid[16:20]}-{rid[20:32]}"
        self.reply(200, f'<GetCallerIdentityResponse xmlns="{NS}"><GetCallerIdentityResult>'
                        f"<Arn>{escape(out['Arn'])}</Arn><UserId>{escape(out['UserId'])}</UserId>"
                        f"<Account>{escape(out['Account'])}</Account></GetCallerIdentityResult>"
                        f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata>"
                        "</GetCallerIdentityResponse>")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--region", default="eu-west-1")
    ap.add_argument("--base-access-key", required=True)
    ap.add_argument("--base-secret-key", required=True)
    ap.add_argument("--role-arn", required=True)
    ap.add_argument("--web-identity-token", default="eyJ.web.identity")
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-key", required=True)
    ap.add_argument("--session-token", required=True)
    ap.add_argument("--lifetime", type=int, default=3600)
    ap.add_argument("--advertised-lifetime", type=int, default=None)
    ap.add_argument("--fail-after", type=int, default=None,
                    help="refuse every request after this many credentials were issued")
    ap.add_argument("--account", default="123456789012",
                    help="the account GetCallerIdentity reports")
    ap.add_argument("--models", default=None)
    aws_model.add_shared_option(ap)
    args = aws_model.use_shared(ap.parse_args())
    st = {"lock": threading.Lock(), "requests": []}
    return serve.serve(Handler, args.port, args.port_file, st=st, args=args,
                       model=aws_model.model("sts", args.models))


if __name__ == "__main__":
    sys.exit(main())
