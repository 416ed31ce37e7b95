"""Registry use cases: the writing of any aggregate (`aggregates`: each change of a producer, product or
mentoring group is written with its event, the aggregate's full state at revision + 1), the commands that
change producers, products, photos and mentoring groups (`commands`), the spreadsheet import (`imports`),
and the queries, which filter on the province (`queries`). Write use cases take the caller's unit of work
(shared/unit_of_work.py)."""
