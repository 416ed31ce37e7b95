"""Scheduling rules: no I/O here."""
