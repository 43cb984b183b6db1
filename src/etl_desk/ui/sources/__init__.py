"""Sources: what was read, the cost basis and the reconciliation (from the data's provenance record)."""
