"""The budget service's use cases: `commands` (a change and its events in the caller's unit of work),
`queries` (reads, province-filtered), `read_models` (scheduling's market days and lineups)."""
