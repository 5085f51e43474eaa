"""Background work: the worker loop, its queue of jobs and periodic tasks, and how workers are
woken (LISTEN/NOTIFY on PostgreSQL, in-process on SQLite)."""
