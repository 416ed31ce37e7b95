"""The report to the department: its typed model (`model`), the pure builder from read-model rows
(`build`), its tables (`tables`) and document outline (`layout`), defined once, and the renderers of
the outline or the tables: Markdown (`text`), DOCX (`docx`), PDF (`pdf`), XLSX and CSV (`sheets`)."""

from services.monitoring.report.build import MarketDayFacts, ReportData, build_national, build_report
from services.monitoring.report.layout import document
from services.monitoring.report.model import NationalReport, ProvinceReport
from services.monitoring.report.text import to_markdown

__all__ = [
    "MarketDayFacts",
    "NationalReport",
    "ProvinceReport",
    "ReportData",
    "build_national",
    "build_report",
    "document",
    "to_markdown",
]
