"""The domain: aggregates, their events and fold, dependency rules, lineage, operations."""
