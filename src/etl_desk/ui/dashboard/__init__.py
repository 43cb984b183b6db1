"""The dashboard: the one state every view subscribes to, the linked charts, the run table, filter bar, KPIs."""
