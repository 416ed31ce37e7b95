"""Scheduling use cases: read models kept from other services' events (`read_models`), the commands that
change venues, plans, market days, lineups and attendance (`commands`), and the queries that read them
(`queries`). Write use cases take the caller's unit of work (shared/unit_of_work.py)."""
