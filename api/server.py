"""`ledgerflow api-server`: the API on uvicorn, on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

from ledgerflow.engine.application.service import Ledgerflow


def serve(host: str, port: int) -> None:
    import uvicorn

    from ledgerflow.api.app import create_app

    with Ledgerflow() as svc:
        svc.migrate()
        uvicorn.run(create_app(svc), host=host, port=port, log_level="info", access_log=True,
                    server_header=False, proxy_headers=False)
