"""What both stand-ins share: serve a handler on 127.0.0.1 until SIGTERM,
announcing the port through a file written atomically; optionally over
TLS (tls_cert/tls_key), asking for a client certificate signed by
tls_client_ca."""
import os
import signal
import ssl
import threading
from http.server import ThreadingHTTPServer


class _TLSServer(ThreadingHTTPServer):
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


def serve(handler, port, port_file, tls_cert=None, tls_key=None, tls_client_ca=None, **attrs):
    if tls_cert:
        srv = _TLSServer(("127.0.0.1", port), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls_cert, tls_key)
        if tls_client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(tls_client_ca)
        srv.ctx = ctx
    else:
        srv = ThreadingHTTPServer(("127.0.0.1", port), handler)
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
