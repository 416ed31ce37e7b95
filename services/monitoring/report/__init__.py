"""The report to the department: its typed model (`model`), the pure builder from read-model rows
(`build`), and its Markdown rendering (`text`). DOCX/PDF/XLSX renderers read the same model."""

from services.monitoring.report.build import MarketDayFacts, ReportData, build_national, build_report
from services.monitoring.report.model import NationalReport, ProvinceReport
from services.monitoring.report.text import national_markdown, province_markdown

__all__ = ["MarketDayFacts", "NationalReport", "ProvinceReport", "ReportData", "build_national", "build_report",
           "national_markdown", "province_markdown"]
