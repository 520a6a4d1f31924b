"""The `ledgerflow` command line: parses, calls the application service, renders."""

if __name__ != "ledgerflow.cli":  # a checkout's folder on sys.path must not pose as a package
    raise ImportError(f"{__name__!r} is not importable: it is ledgerflow.cli (pip install ledgerflow)")
