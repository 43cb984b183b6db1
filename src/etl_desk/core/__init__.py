"""Pure-Python core of ETL Desk: no Qt here (a test enforces it)."""
