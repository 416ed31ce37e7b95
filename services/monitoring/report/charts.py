"""The report's charts as PNG images, drawn server-side with Pillow: grouped bars with their 90 % interval
as whiskers. Thai labels are shaped by libraqm (HarfBuzz) in the PDF's own font, Arundina Sans, so
vowels and tone marks sit where they belong. The PDF and the DOCX embed the same image."""

import io
from dataclasses import dataclass
from decimal import Decimal

from PIL import Image, ImageDraw, ImageFont

from shared import thai

Bar = tuple[Decimal | None, Decimal | None, Decimal | None]  # mean, low, high (None: no interval)
WIDTH, HEIGHT = 1600, 820
LEFT, RIGHT, TOP, BOTTOM = 150, 40, 150, 150
COLOURS = ["#1f5fa8", "#e08a1e", "#3a9a4a", "#b03a48"]
INK, GRID = "#222222", "#d0d0d0"


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str  # the y axis: บาท, ร้อยละ
    groups: list[str]  # along the x axis
    series: list[str]  # the legend: one bar of each series in every group
    bars: list[list[Bar]]  # [group][series]


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    from services.monitoring.report.pdf import font_files  # the PDF's font (pdf imports the outline)

    path = font_files()["bold" if bold else "normal"]
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)


def _step(top: Decimal) -> Decimal:
    """A round gridline step giving about five lines up to `top`."""
    raw = top / 5 if top > 0 else Decimal(1)
    magnitude = Decimal(10) ** (len(str(int(raw))) - 1) if raw >= 1 else Decimal("0.1")
    for factor in (1, 2, 5, 10):
        if raw <= magnitude * factor:
            return magnitude * factor
    return magnitude * 10


def _lines(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Text broken at spaces to fit `width` pixels."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def chart_png(chart: Chart, thai_digits: bool) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    title, label, small = _font(38, bold=True), _font(28), _font(24)
    draw.text((LEFT, 24), chart.title, font=title, fill=INK)
    tops = [v for group in chart.bars for bar in group for v in (bar[0], bar[2]) if v is not None]
    top = max([Decimal(0), *tops])
    step = _step(top)
    lines = int(top / step) + 1
    plot_h, plot_w = HEIGHT - TOP - BOTTOM, WIDTH - LEFT - RIGHT

    def y(value: Decimal) -> float:
        return TOP + plot_h - float(value / (step * lines)) * plot_h

    for n in range(lines + 1):
        at = y(step * n)
        draw.line([(LEFT, at), (WIDTH - RIGHT, at)], fill=GRID, width=2)
        text = thai.number(step * n, thai_digits, 0 if step >= 1 else 1)
        draw.text((LEFT - 12, at), text, font=small, fill=INK, anchor="rm")
    draw.text((20, TOP - 50), chart.unit, font=small, fill=INK)
    legend_x = LEFT
    for colour, name in zip(COLOURS, chart.series, strict=False):
        draw.rectangle([legend_x, 90, legend_x + 28, 118], fill=colour)
        draw.text((legend_x + 38, 104), name, font=label, fill=INK, anchor="lm")
        legend_x += 38 + int(label.getlength(name)) + 40
    group_w = plot_w / max(len(chart.groups), 1)
    bar_w = min(120.0, group_w * 0.8 / max(len(chart.series), 1))
    for g, (group, bars) in enumerate(zip(chart.groups, chart.bars, strict=True)):
        left = LEFT + g * group_w + (group_w - bar_w * len(bars)) / 2
        for s, (mean, low, high) in enumerate(bars):
            x0 = left + s * bar_w
            if mean is None:
                draw.text((x0 + bar_w / 2, y(Decimal(0)) - 20), "-", font=small, fill=INK, anchor="mm")
                continue
            draw.rectangle([x0 + 4, y(mean), x0 + bar_w - 4, y(Decimal(0))], fill=COLOURS[s % len(COLOURS)])
            if low is not None and high is not None:
                middle = x0 + bar_w / 2
                draw.line([(middle, y(low)), (middle, y(high))], fill=INK, width=3)
                for end in (low, high):
                    draw.line([(middle - 12, y(end)), (middle + 12, y(end))], fill=INK, width=3)
        for n, line in enumerate(_lines(group, label, int(group_w) - 10)[:3]):
            draw.text(
                (LEFT + g * group_w + group_w / 2, HEIGHT - BOTTOM + 28 + n * 36),
                line,
                font=label,
                fill=INK,
                anchor="mm",
            )
    draw.text(
        (LEFT, HEIGHT - 24),
        "เส้นแนวตั้งบนแท่ง = ช่วงความเชื่อมั่น ๙๐%  แท่งที่ไม่มีเส้น = ข้อมูลน้อยกว่า ๕ ราย (ข้อมูลไม่พอ)",
        font=small,
        fill=INK,
        anchor="lm",
    )
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
