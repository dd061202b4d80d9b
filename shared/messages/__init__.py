"""The message queue: envelopes and records, the queue's operations (Lua), dead letters, the read-only views."""
