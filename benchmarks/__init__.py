"""`make bench`: fila's benchmarks. Each figure comes with a baseline measured in the same run."""
