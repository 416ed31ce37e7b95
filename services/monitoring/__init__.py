"""Monitoring service: committees, evaluations, and the report to the department."""
