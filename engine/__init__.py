"""ledgerflow's write side: authoring, domain, application services, runtime, audit, infrastructure."""

if __name__ != "ledgerflow.engine":  # a checkout's folder on sys.path must not pose as a package
    raise ImportError(f"{__name__!r} is not importable: it is ledgerflow.engine (pip install ledgerflow)")
