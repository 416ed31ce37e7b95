"""Sales rules: no I/O here."""
