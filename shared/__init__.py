"""fila's own package, used by the web, the workers and the CLI: core/, messages/ (the message queue), jobs/ (RQ)."""
