"""The `ledgerflow` command line: parses, calls engine and projections, renders."""
