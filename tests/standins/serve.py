"""What both stand-ins share: serve a handler on 127.0.0.1 until SIGTERM,
announcing the port through a file written atomically."""
import os
import signal
import threading
from http.server import ThreadingHTTPServer


def serve(handler, port, port_file, **attrs):
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
