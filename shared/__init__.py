"""Code shared by the web producer and the workers: settings, Redis, keys, jobs."""
