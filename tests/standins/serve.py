"""What both stand-ins share: serve a handler on 127.0.0.1 until SIGTERM,
announcing the port through a file written atomically; optionally over
TLS (tls_cert/tls_key), asking for a client certificate signed by
tls_client_ca.  Also the transport-level faults both can inject instead of
a reply (misbehave())."""
import os
import select
import signal
import socket
import ssl
import struct
import threading
import time
from http.server import ThreadingHTTPServer

# What a fault entry's "action" may ask for instead of an answer.
ACTIONS = ("reset", "stall", "truncate", "oversize")
OVERSIZE_BYTES = 80 << 20     # more than gluemetad's HTTP_MAX_BODY (64 MiB)


class Misbehave(Exception):
    """Raised by a handler to answer a request with a transport-level fault."""

    def __init__(self, fault):
        super().__init__(fault.get("action"))
        self.fault = fault


class _Server(ThreadingHTTPServer):
    """Closes a connection marked by abort() with a TCP reset (no FIN first)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self._abort = set()
        self._abort_lock = threading.Lock()

    def abort(self, request):
        request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self._abort_lock:
            self._abort.add(id(request))

    def shutdown_request(self, request):
        with self._abort_lock:
            hard = id(request) in self._abort
            self._abort.discard(id(request))
        if hard:
            self.close_request(request)     # SO_LINGER 0: the close sends RST
        else:
            super().shutdown_request(request)


class _TLSServer(_Server):
    ctx = None

    def get_request(self):
        sock, addr = super().get_request()
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()          # in the handler's thread
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


def _peer_closed(conn, wait_s):
    """Waits up to wait_s for the peer to close; True once it has.  What it
    sends meanwhile is read and dropped (over TLS too)."""
    try:
        r, _, _ = select.select([conn], [], [], wait_s)
        if not r:
            return False
        conn.settimeout(wait_s)
        return conn.recv(4096) == b""
    except socket.timeout:
        return False
    except (OSError, ValueError):
        return True


def misbehave(handler, fault, content_type="application/json"):
    """Answers the request being handled with the fault's action instead of a
    reply, and closes the connection:
      reset     close at once with a TCP reset, nothing sent;
      stall     send nothing until the client gives up (or "seconds", default
                3600, pass), then close;
      truncate  a 200 whose Content-Length is "missing" (default 100) bytes more
                than the body sent, then close;
      oversize  a 200 of "bytes" (default 80 MiB) streamed, with its
                Content-Length, or chunked without one when "chunked" is true."""
    action = fault.get("action")
    handler.close_connection = True
    conn = handler.connection
    if action == "reset":
        handler.server.abort(conn)
        return
    if action == "stall":
        end = time.monotonic() + float(fault.get("seconds", 3600))
        while time.monotonic() < end and not _peer_closed(conn, min(0.2, end - time.monotonic())):
            pass
        return
    try:
        if action == "truncate":
            body = b'{"message": "this reply was cut short by the stand-in", "pad": "' + \
                b"x" * 200 + b'"}'
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body) + int(fault.get("missing", 100))))
            handler.end_headers()
            handler.wfile.write(body)
            return
        if action == "oversize":
            total = int(fault.get("bytes", OVERSIZE_BYTES))
            chunked = bool(fault.get("chunked"))
            head, tail = b'{"pad": "', b'"}'
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            if chunked:
                handler.send_header("Transfer-Encoding", "chunked")
            else:
                handler.send_header("Content-Length", str(total))
            handler.end_headers()

            def out(data):
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            block = memoryview(b"x" * (1 << 20))
            out(head)
            left = total - len(head) - len(tail)
            while left > 0:
                n = min(left, len(block))
                out(block[:n])
                left -= n
            out(tail)
            if chunked:
                handler.wfile.write(b"0\r\n\r\n")
            return
    except OSError:
        return          # the client hung up, as it should on an oversized reply
    raise ValueError(f"unknown fault action {action!r}")


def check_faults(faults):
    """Raises ValueError for a fault list a control API should refuse."""
    if not isinstance(faults, list) or not all(isinstance(f, dict) for f in faults):
        raise ValueError("faults must be a list of objects")
    for f in faults:
        if "action" in f and f["action"] not in ACTIONS:
            raise ValueError(f"unknown fault action {f['action']!r}; one of {', '.join(ACTIONS)}")


def serve(handler, port, port_file, tls_cert=None, tls_key=None, tls_client_ca=None, **attrs):
    # headers and body go out in separate writes: without TCP_NODELAY the body
    # waits ~40 ms for the client's delayed ACK, which no real service does
    handler.disable_nagle_algorithm = True
    if tls_cert:
        srv = _TLSServer(("127.0.0.1", port), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls_cert, tls_key)
        if tls_client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(tls_client_ca)
        srv.ctx = ctx
    else:
        srv = _Server(("127.0.0.1", port), handler)
    srv.daemon_threads = True
    for k, v in attrs.items():
        setattr(srv, k, v)
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(str(srv.server_address[1]))
        os.rename(tmp, port_file)
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=srv.shutdown).start())
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
