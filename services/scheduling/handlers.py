"""Scheduling use cases: change state and stage the matching event in one transaction."""
