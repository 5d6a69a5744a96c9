"""trainingdb server."""
