"""Read side: views folded from the event store, catch-up, rebuild, queries."""
