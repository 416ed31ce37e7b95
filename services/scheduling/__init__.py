"""Scheduling service: venues, monthly plans, market days and product selection."""
