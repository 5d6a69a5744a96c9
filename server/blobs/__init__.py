"""trainingdb server/blobs."""
