"""The Insights view: insight cards by area, the anomaly table and the anomaly thresholds."""
