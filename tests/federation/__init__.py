"""An Apollo Federation gateway over trainingdb and a second subgraph (Node.js)."""
