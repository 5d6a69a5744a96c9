"""trainingdb tests (not installed)."""
