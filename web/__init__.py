"""The web UI: server-rendered pages over the application service, mounted by the HTTP API at `/`."""
