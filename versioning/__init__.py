"""trainingdb versioning."""
