"""Monitoring service: committees, evaluations, and the report to the department.

- Read models (handlers/read_models.py) of registry producers/products, scheduling venues, plans,
  market days, invitations and attendance, and sales (latest revision of each sale).
- Records (api/committees.py, api/records.py): committees and members, activities (meetings),
  problems/obstacles and recommendations per month.
- Evaluations (api/evaluations.py): a committee member's evaluation of a market day, emitting
  EvaluationSubmitted; completeness and timeliness (OTOP_MONITORING_EVALUATION_DUE_DAYS, 3).
- The report (report/: typed model, pure builder, Markdown; api/reports.py):
  GET /provinces/{code}/reports/{year}/{month}, .../reports/{fiscal_year}/quarters/{q},
  GET /national/reports/{year}/{month} and .../quarters/{q} (department only);
  ?format=text for Markdown, docx|pdf|xlsx for files, csv&table=<name> for one table (docs/report-files.md),
  ?digits=thai for ๐-๙. Years CE or BE (2019 or 2562).
- People see all of this in the web application (web/, docs/app.md), which calls these APIs through the
gateway.
"""
