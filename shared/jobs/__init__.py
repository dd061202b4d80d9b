"""Fibonacci jobs on RQ: the numbers, the job function, the job queue, and RQ's own CLI and dashboard settings."""
