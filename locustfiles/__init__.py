"""locust users and shapes for LLM routes (run in their own processes: gevent patches them)."""
