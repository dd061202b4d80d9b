"""fila's message workers: take messages off the queue list, process them, store the results."""
