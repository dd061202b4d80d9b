"""What every fila process uses: settings, the Redis connection, key names, JSON, ids, logging, API tokens."""
