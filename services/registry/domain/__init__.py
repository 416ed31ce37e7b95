"""Registry rules and value objects, no I/O: `catalogue` (producers, products, locations),
`sheet` (the import/export file layout), `mentoring` (mentoring groups and pairing suggestions)."""
