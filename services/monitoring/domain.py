"""Monitoring rules: no I/O here. (Report aggregation lands here.)"""
