"""An independent SigV4 implementation (hashlib/hmac) used by the fake Glue,
STS and S3 to verify the signatures of requests it receives, and by its self-test to
reproduce AWS's official test suite."""
import hashlib
import hmac
import re
import urllib.parse

UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"


def _enc(s, safe=""):
    if isinstance(s, str):
        s = s.encode("utf-8")
    return urllib.parse.quote(s, safe=UNRESERVED + safe)


def canonical_uri(path, normalize=True):
    if not path:
        return "/"
    if not normalize:
        return _enc(path, "/")
    trailing = path.endswith("/")
    out = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    uri = "/" + "/".join(_enc(s) for s in out)
    if trailing and out:
        uri += "/"
    return uri


def canonical_query(query):
    if not query:
        return ""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        pairs.append((_enc(urllib.parse.unquote_to_bytes(k)),
                      _enc(urllib.parse.unquote_to_bytes(v))))
    pairs.sort()
    return "&".join(f"{k}={v}" for k, v in pairs)


def canonical_headers(headers, names=None):
    """headers: list of (name, value).  names: the subset to sign."""
    merged = {}
    order = []
    for name, value in headers:
        n = name.lower()
        v = re.sub(r"\s+", " ", value.strip())
        if n not in merged:
            merged[n] = []
            order.append(n)
        merged[n].append(v)
    keys = sorted(n for n in order if names is None or n in names)
    text = "".join(f"{n}:{','.join(merged[n])}\n" for n in keys)
    return text, ";".join(keys)


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def sign(method, path, query, headers, body, access_key, secret_key, region, service,
         amz_date, signed_names=None, normalize=True, payload_hash=None):
    """Returns (canonical_request, string_to_sign, authorization).

    normalize=False is S3's rule: the path is used as given (no dot-segment or
    double-slash removal) and encoded once; pass it decoded.  payload_hash
    replaces the body's SHA-256 in the canonical request (S3 signs the value of
    its x-amz-content-sha256 header, which may be UNSIGNED-PAYLOAD)."""
    hdr_text, signed = canonical_headers(headers, signed_names)
    payload = payload_hash or \
        hashlib.sha256(body if isinstance(body, bytes) else body.encode()).hexdigest()
    creq = "\n".join([method, canonical_uri(path, normalize), canonical_query(query),
                      hdr_text, signed, payload])
    date = amz_date[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode("utf-8")).hexdigest()])
    k = _hmac(("AWS4" + secret_key).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    k = _hmac(k, "aws4_request")
    sig = hmac.new(k, sts.encode("utf-8"), hashlib.sha256).hexdigest()
    auth = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, "
            f"Signature={sig}")
    return creq, sts, auth


AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,"
                     r" ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$")


def parse_authorization(value):
    m = AUTH_RE.match(value or "")
    if not m:
        return None
    return {"access_key": m.group(1), "date": m.group(2), "region": m.group(3),
            "service": m.group(4), "signed": m.group(5).split(";"), "signature": m.group(6)}
