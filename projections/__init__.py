"""Read side: views folded from the event store, catch-up, rebuild, queries."""

if __name__ != "ledgerflow.projections":  # a checkout's folder on sys.path must not pose as a package
    raise ImportError(f"{__name__!r} is not importable: it is ledgerflow.projections (pip install ledgerflow)")
