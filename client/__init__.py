"""trainingdb client."""
