"""The report as Markdown (plain text that reads well as is): the document outline of `layout`, which the
DOCX and PDF renderers print too."""

from services.monitoring.report.charts import Chart
from services.monitoring.report.layout import Bullets, Document, Heading, Paragraph
from services.monitoring.report.tables import Table, cell_text


def _table(table: Table, thai_digits: bool) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |"

    return [
        line(table.headers),
        line(["---"] * len(table.headers)),
        *(line([cell_text(cell, thai_digits) for cell in row]) for row in table.rows),
    ]


def to_markdown(doc: Document) -> str:
    lines: list[str] = []
    for block in doc.blocks:
        match block:
            case Heading(level, text):
                lines += ["#" * level + f" {text}"]
            case Paragraph(text):
                lines += [text]
            case Bullets(items):
                lines += [f"- {item}" for item in items]
            case Table():
                lines += _table(block, doc.thai_digits)
            case Chart():
                lines += [f"*แผนภูมิ: {block.title} (ในไฟล์ PDF และ DOCX)*"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
