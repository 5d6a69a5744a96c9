"""trainingdb server/demo."""
