"""`ledgerflow api-server`: the API on uvicorn, on 127.0.0.1 unless told otherwise.

The socket is bound before uvicorn starts, so an address in use is an OSError the
command line reports in one line, instead of uvicorn's own exit. It is made with
protocol IPPROTO_TCP: asyncio sets TCP_NODELAY only on connections of such a socket,
and without it a keep-alive client waits out a delayed ACK (about 40 ms) per response.
"""

from __future__ import annotations

import socket

from ledgerflow.engine.application.service import Ledgerflow


def serve(host: str, port: int) -> None:
    import uvicorn

    from ledgerflow.api.app import create_app

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    with Ledgerflow(keep_dag_files=True) as svc:
        svc.migrate()
        bound, bound_port = sock.getsockname()[:2]
        shown = f"[{bound}]" if family == socket.AF_INET6 else bound
        print(f"ledgerflow API on http://{shown}:{bound_port} (Ctrl-C stops it)", flush=True)
        config = uvicorn.Config(create_app(svc), host=host, port=port, log_level="info", server_header=False,
                                proxy_headers=False)
        uvicorn.Server(config).run(sockets=[sock])
