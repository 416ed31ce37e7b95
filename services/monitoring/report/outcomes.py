"""The report's section ผลลัพธ์ต่อผู้ผลิต (after the seed document's three): the season's outcomes as
sentences for officers, tables for the sheets and documents, and charts for the PDF and DOCX. Pure: the
figures come computed (domain.outcomes)."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from services.monitoring.domain.outcomes import ProvinceOutcomes
from services.monitoring.domain.statistics import Comparison, Estimate, Share
from services.monitoring.report.charts import Bar, Chart
from services.monitoring.report.model import OutcomesSection, ProvinceReport
from services.monitoring.report.tables import Cell, Table
from shared import thai
from shared.contracts.scheduling import VenueKind
from shared.labels import DECLINE_REASON_TH, PRODUCT_CATEGORY_TH
from shared.thailand import be_year

HEADING = "ผลลัพธ์ต่อผู้ผลิต"
NOT_ENOUGH = "ข้อมูลไม่พอ"
CRITERIA_TH = {
    "quadrant_d": "Quadrant D (กลุ่มปรับตัวสู่การพัฒนา)",
    "stars_1_3": "ระดับ 1-3 ดาว",
    "nawatwithi": "ผลิตภัณฑ์ชุมชนท่องเที่ยว OTOP นวัตวิถี",
    "low_seller": "ขายได้น้อยหรือขายไม่ได้ (เดือนแรกของฤดูกาล)",
    "intended": "ตรงกลุ่มเป้าหมาย (Quadrant D, 1-3 ดาว หรือนวัตวิถี)",
}
CRITERIA_SHORT_TH = {  # under a chart's bars
    "quadrant_d": "Quadrant D",
    "stars_1_3": "1-3 ดาว",
    "nawatwithi": "นวัตวิถี",
    "low_seller": "ขายได้น้อย (เดือนแรก)",
    "intended": "ตรงกลุ่มเป้าหมาย (ข้อใดข้อหนึ่ง)",
}
VENUE_TH = {VenueKind.PRACHARAT_MARKET: "ตลาดประชารัฐ", VenueKind.TOURIST_SPOT: "แหล่งท่องเที่ยว"}
COMPARISON_HEADERS = [
    "เรื่อง",
    "กลุ่ม ก",
    "จำนวน ก",
    "ค่าเฉลี่ย ก",
    "ช่วง 90% ก",
    "กลุ่ม ข",
    "จำนวน ข",
    "ค่าเฉลี่ย ข",
    "ช่วง 90% ข",
    "ผลต่าง ก - ข",
    "ช่วง 90% ของผลต่าง",
]


def _month(month: date, t: bool) -> str:
    return thai.month_year(month.year, month.month, t)


def interval(figure: Estimate | Share, t: bool) -> str:
    if figure.low is None or figure.high is None:
        return NOT_ENOUGH
    return f"{thai.number(figure.low, t, 2)} - {thai.number(figure.high, t, 2)}"


def _mean(e: Estimate, t: bool, unit: str = "บาท") -> str:
    if e.mean is None:
        return "ไม่มีข้อมูล"
    return f"{thai.number(e.mean, t, 2)} {unit} ({thai.number(e.n, t)} ราย)"


def _compared(c: Comparison, a: str, b: str, t: bool, unit: str = "บาท") -> str:
    text = f"{a} เฉลี่ย {_mean(c.a, t, unit)} {b} เฉลี่ย {_mean(c.b, t, unit)}"
    if c.difference.mean is None:
        return text
    if c.difference.low is None:
        return f"{text} ต่างกัน {thai.number(c.difference.mean, t, 2)} {unit} ({NOT_ENOUGH}สำหรับช่วงความเชื่อมั่น)"
    return (
        f"{text} ต่างกัน {thai.number(c.difference.mean, t, 2)} {unit} (ช่วง 90%: {interval(c.difference, t)})"
    )


def outcomes_section(figures: ProvinceOutcomes, t: bool) -> OutcomesSection:
    season = (
        f"ฤดูกาล {thai.digits(str(be_year(figures.first_day.year)), t)}" if figures.first_day else "ฤดูกาลนี้"
    )
    if figures.first_day and figures.last_day:
        season += f" ({thai.short_date(figures.first_day, t)} - {thai.short_date(figures.last_day, t)})"
    if not figures.market_days:
        text = ["ยังไม่มีวันจัดตลาดในฤดูกาลนี้"]
    else:
        shares = {c.criterion: c.share for c in figures.programme.shares}
        intended, low = shares["intended"], shares["low_seller"]
        fairness = figures.fairness
        text = [
            f"{season} จัดตลาด {thai.number(figures.market_days, t)} ครั้ง "
            f"มีผู้ผลิตได้รับเชิญหรือมาร่วม {thai.number(len(figures.producers), t)} ราย",
            f"ผลิตภัณฑ์ในรายการที่เชิญ {thai.number(figures.programme.lineup, t)} รายการ "
            f"ตรงกลุ่มเป้าหมายของโครงการร้อยละ {thai.number(intended.percent or Decimal(0), t, 2)} "
            f"(ช่วง 90%: {interval(intended, t)}) และเป็นผลิตภัณฑ์ที่ขายได้น้อยในเดือนแรกร้อยละ "
            f"{thai.number(low.percent or Decimal(0), t, 2)}",
            "ยอดขายต่อวันตลาดที่มาร่วม: " + _compared(figures.new_vs_experienced, "ผู้ผลิตรายใหม่", "ผู้ผลิตรายเดิม", t),
            "ผู้ผลิตรายใหม่ในกลุ่มแลกเปลี่ยนเรียนรู้ (พี่เลี้ยง) เทียบกับรายใหม่ที่ไม่มีกลุ่ม: "
            + _compared(figures.mentoring.sales_per_market_day, "ในกลุ่ม", "ไม่มีกลุ่ม", t),
            f"ผลิตภัณฑ์กลุ่มเป้าหมาย {thai.number(fairness.eligible, t)} รายการ "
            f"ได้รับเชิญอย่างน้อยหนึ่งครั้ง {thai.number(fairness.invited.count, t)} รายการ "
            f"ยังไม่เคยได้รับเชิญ {thai.number(fairness.never_invited_count, t)} รายการ "
            "(ควรพิจารณาในแผนครั้งต่อไป)",
            "รายชื่อผลลัพธ์รายผู้ผลิตและผลิตภัณฑ์ที่ยังไม่เคยได้รับเชิญ อยู่ในไฟล์ XLSX "
            "(แผ่นงาน outcomes_producers และ outcomes_never_invited)",
        ]
    return OutcomesSection(
        number=thai.digits("5", t),  # after the seed's three sections and the budget (๔)
        heading=HEADING,
        season=season,
        text=[thai.digits(each, t) for each in text],
        note=figures.note,
        figures=figures,
    )


# --- tables


def _comparison_row(topic: str, a: str, b: str, c: Comparison, t: bool) -> list[Cell]:
    return [
        topic,
        a,
        c.a.n,
        c.a.mean,
        interval(c.a, t),
        b,
        c.b.n,
        c.b.mean,
        interval(c.b, t),
        c.difference.mean,
        interval(c.difference, t),
    ]


def _figures(report: ProvinceReport) -> ProvinceOutcomes | None:
    return report.outcomes.figures if report.outcomes else None


def _comparisons(report: ProvinceReport) -> Table:
    f, t = _figures(report), report.thai_digits
    rows: list[list[Cell]] = []
    if f:
        new, old = "ผู้ผลิตรายใหม่", "ผู้ผลิตรายเดิม"
        rows.append(_comparison_row("ยอดขายต่อวันตลาด (บาท) ทั้งฤดูกาล", new, old, f.new_vs_experienced, t))
        rows += [
            _comparison_row(f"ยอดขายต่อวันตลาด (บาท) {_month(m.month, t)}", new, old, m.new_vs_experienced, t)
            for m in f.new_vs_experienced_by_month
        ]
        mentored, alone = "รายใหม่ในกลุ่มพี่เลี้ยง", "รายใหม่ไม่มีกลุ่ม"
        m = f.mentoring
        rows += [
            _comparison_row("กลุ่มพี่เลี้ยง: ยอดขายต่อวันตลาด (บาท)", mentored, alone, m.sales_per_market_day, t),
            _comparison_row("กลุ่มพี่เลี้ยง: มาร่วมตลาดที่เชิญ (ร้อยละ)", mentored, alone, m.attendance_percent, t),
            _comparison_row("กลุ่มพี่เลี้ยง: ปฏิเสธคำเชิญ (ร้อยละ)", mentored, alone, m.decline_percent, t),
        ]
        rows += [
            _comparison_row(
                f"ยอดขายต่อผลิตภัณฑ์ต่อวันตลาด (บาท): {PRODUCT_CATEGORY_TH.get(v.category, v.category)}",
                VENUE_TH[VenueKind.PRACHARAT_MARKET],
                VENUE_TH[VenueKind.TOURIST_SPOT],
                v.pracharat_vs_tourist,
                t,
            )
            for v in f.venues
        ]
        if f.programme.first_to_last_month:
            rows.append(
                _comparison_row(
                    "ผู้ผลิตกลุ่มเป้าหมาย: ยอดขายต่อวันตลาด (บาท)",
                    _month(f.months[-1], t),
                    _month(f.months[0], t),
                    f.programme.first_to_last_month,
                    t,
                )
            )
    return Table("outcomes_comparisons", "ผลลัพธ์: การเปรียบเทียบ (ข้อมูลจากการสังเกต)", COMPARISON_HEADERS, rows)


def _lineup(report: ProvinceReport) -> Table:
    f, t = _figures(report), report.thai_digits
    rows: list[list[Cell]] = [
        [CRITERIA_TH[c.criterion], c.share.count, c.share.n, c.share.percent, interval(c.share, t)]
        for c in (f.programme.shares if f else [])
    ]
    return Table(
        "outcomes_lineup",
        "สัดส่วนผลิตภัณฑ์ในรายการที่เชิญ ตามเกณฑ์ของโครงการ",
        ["เกณฑ์", "จำนวนรายการ", "รายการทั้งหมด", "ร้อยละ", "ช่วง 90%"],
        rows,
    )


def _reasons(reasons: dict[str, int], t: bool) -> str | None:
    text = ", ".join(f"{DECLINE_REASON_TH.get(r, r)} {n}" for r, n in reasons.items())
    return thai.digits(text, t) if text else None


def _producers(report: ProvinceReport) -> Table:
    f, t = _figures(report), report.thai_digits
    rows: list[list[Cell]] = [
        [
            r.name,
            "รายเดิม" if r.experienced else "รายใหม่",
            r.mentoring_group,
            r.invited,
            r.attended,
            r.declined,
            _reasons(r.decline_reasons, t),
            r.sales_thb,
            r.sales_per_market_day,
            r.trend,
        ]
        for r in (f.producers if f else [])
    ]
    return Table(
        "outcomes_producers",
        "ผลลัพธ์รายผู้ผลิต",
        [
            "ผู้ผลิต",
            "ประสบการณ์",
            "กลุ่มพี่เลี้ยง",
            "วันตลาดที่ได้รับเชิญ",
            "มาร่วม",
            "ปฏิเสธ",
            "เหตุผลที่ปฏิเสธ",
            "ยอดขาย (บาท)",
            "ยอดขายต่อวันตลาด (บาท)",
            "แนวโน้ม (เดือนสุดท้าย - เดือนแรก)",
        ],
        rows,
    )


def _never_invited(report: ProvinceReport) -> Table:
    f = _figures(report)
    rows: list[list[Cell]] = [
        [
            p.name,
            p.producer_name,
            PRODUCT_CATEGORY_TH.get(p.category, p.category),
            p.star_level,
            p.quadrant,
            "ใช่" if p.nawatwithi else None,
        ]
        for p in (f.fairness.never_invited if f else [])
    ]
    return Table(
        "outcomes_never_invited",
        "ผลิตภัณฑ์กลุ่มเป้าหมายที่ยังไม่เคยได้รับเชิญ (สำหรับแผนครั้งต่อไป)",
        ["ผลิตภัณฑ์", "ผู้ผลิต", "ประเภท", "ดาว", "Quadrant", "นวัตวิถี"],
        rows,
    )


def _spread(report: ProvinceReport) -> Table:
    f = _figures(report)
    rows: list[list[Cell]] = [
        [times, products] for times, products in (f.fairness.distribution if f else {}).items()
    ]
    return Table(
        "outcomes_invitation_spread",
        "การกระจายคำเชิญในผลิตภัณฑ์กลุ่มเป้าหมาย",
        ["จำนวนครั้งที่ได้รับเชิญ", "จำนวนผลิตภัณฑ์"],
        rows,
    )


# The documents (PDF, DOCX, Markdown) print the short tables; the lists of producers and of products never
# invited, a row each (a thousand in a large province), are in the XLSX, the CSV and the JSON.
DOCUMENT_TABLES = ("outcomes_lineup", "outcomes_comparisons", "outcomes_invitation_spread")
OUTCOME_TABLES: dict[str, Callable[[ProvinceReport], Table]] = {
    "outcomes_lineup": _lineup,
    "outcomes_comparisons": _comparisons,
    "outcomes_producers": _producers,
    "outcomes_invitation_spread": _spread,
    "outcomes_never_invited": _never_invited,
}


# --- charts


def _bar(e: Estimate) -> Bar:
    return (e.mean, e.low, e.high)


def charts(figures: ProvinceOutcomes, t: bool) -> list[Chart]:
    if not figures.market_days:
        return []
    found = [
        Chart(
            title="ยอดขายต่อวันตลาด: ผู้ผลิตรายใหม่กับรายเดิม รายเดือน",
            unit="บาท",
            groups=[_month(m.month, t) for m in figures.new_vs_experienced_by_month],
            series=["ผู้ผลิตรายใหม่", "ผู้ผลิตรายเดิม"],
            bars=[
                [_bar(m.new_vs_experienced.a), _bar(m.new_vs_experienced.b)]
                for m in figures.new_vs_experienced_by_month
            ],
        ),
        Chart(
            title="สัดส่วนผลิตภัณฑ์ในรายการที่เชิญ ตามเกณฑ์ของโครงการ",
            unit="ร้อยละ",
            groups=[thai.digits(CRITERIA_SHORT_TH[c.criterion], t) for c in figures.programme.shares],
            series=["ร้อยละของรายการที่เชิญ"],
            bars=[[(c.share.percent, c.share.low, c.share.high)] for c in figures.programme.shares],
        ),
    ]
    if figures.venues:
        found.append(
            Chart(
                title="ยอดขายต่อผลิตภัณฑ์ต่อวันตลาด: ตลาดประชารัฐกับแหล่งท่องเที่ยว",
                unit="บาท",
                groups=[PRODUCT_CATEGORY_TH.get(v.category, v.category) for v in figures.venues],
                series=[VENUE_TH[VenueKind.PRACHARAT_MARKET], VENUE_TH[VenueKind.TOURIST_SPOT]],
                bars=[
                    [_bar(v.pracharat_vs_tourist.a), _bar(v.pracharat_vs_tourist.b)] for v in figures.venues
                ],
            )
        )
    return found
