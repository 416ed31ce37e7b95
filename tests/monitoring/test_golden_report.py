"""Golden test: the seed document (Suphanburi's report for June 2562) entered as data the way
production gets it — the plan as the scheduling service's event, the meeting, the committee and the
problems and recommendations over HTTP — and the report the service makes says what the seed says."""

from datetime import date
from uuid import uuid4

import pytest

from services.monitoring.main import spec
from shared.contracts.scheduling import PlanSet
from tests.conftest import running_service
from tests.monitoring.support import OFFICER, publish, report, report_shows, skip_earlier_events

pytestmark = pytest.mark.integration

MEETING = {
    "title": "การประชุมกลไกการขับเคลื่อนการจัดแสดงและจำหน่ายผลิตภัณฑ์ OTOP ภายใต้โครงการ OTOP เคลื่อนที่ (OTOP Mobile)",
    "held_on": "2019-06-24",
    "venue": "โรงแรมเลิศธานี อ.เมืองฯ จ.สุพรรณบุรี",
    "starts_at": "08:30",
    "ends_at": "16:30",
    "target_group": "คณะกรรมการเครือข่าย OTOP , คณะทำงานตลาดประชารัฐ คนไทยยิ้มได้ จังหวัดสุพรรณบุรี "
    ",เจ้าหน้าที่พัฒนาชุมชนอำเภอที่รับผิดชอบงานตลาดฯ",
    "participants": 40,
    "purpose": "เพื่อสร้างความเข้าใจ เกี่ยวกับการดำเนินงานโครงการ OTOP เคลื่อนที่ (OTOP Mobile) "
    "และจัดทำแผนปฏิบัติงานขับเคลื่อนโครงการฯ",
}
MEMBERS = [
    ("นายสมชาย ใจดี", "otop_network"),
    ("นางสาวมาลี ศรีสุข", "pracharat_working_group"),
    ("นายประเสริฐ ทองดี", "district_cdd_officer"),
    ("นางวันดี มีสุข", "provincial_cdd_officer"),
]
PROBLEMS = [
    (
        "producers_busy",
        "ผู้ผลิต/ผู้ประกอบการ OTOP บางรายติดภารกิจไม่สามารถเข้าร่วมโครงการฯได้ "
        "บางรายก็มีตลาดที่จำหน่ายเป็นประจำแล้ว และมีความกังวลว่าจะจำหน่ายสินค้าไม่ได้",
    ),
    ("raw_material_shortage", "การผลิตสินค้าของผู้ประกอบการบางราย ขาดความต่อเนื่อง เนื่องจากขาดวัตถุดิบ"),
    ("new_producer", "ผู้ประกอบการบางรายเป็นรายใหม่หรือขาดประสบการณ์ในการนำสินค้าออกจำหน่าย"),
]
RECOMMENDATIONS = [
    ("publicity", "มีการประชาสัมพันธ์ทางช่องทางต่างๆให้หลากหลาย เช่น วิทยุกระจายเสียง หนังสือพิมพ์ท้องถิ่น สื่อออนไลน์ เป็นต้น"),
    (
        "mentoring",
        "สร้างกลุ่มเพื่อแลกเปลี่ยนเรียนรู้ระหว่างผู้ประกอบการรายเก่าและรายใหม่ "
        "ให้คำแนะนำส่งเสริมกันเพื่อสร้างความเข้าใจ สร้างเครือข่ายการทำงาน",
    ),
]
PLAN = PlanSet(
    plan_id=uuid4(),
    revision=1,
    name="โครงการ OTOP เคลื่อนที่ (OTOP Mobile)",
    first_month=date(2019, 6, 1),
    last_month=date(2019, 9, 1),
    market_days_per_month=4,
    products_per_market_day=20,
    target_group="๒๐ ผลิตภัณฑ์/ตลาด",
    budget_source="งบบุคลากรฯ",
)

# The seed's sentences, as the report must print them (with Thai digits).
SEED_TEXT = [
    "# สรุปการดำเนินงานโครงการหนึ่งตำบล หนึ่งผลิตภัณฑ์ (OTOP)",
    "## เดือนมิถุนายน ๒๕๖๒",
    "## ๑ ผลความก้าวหน้าในการดำเนินงาน OTOP Mobile",
    "จังหวัดสุพรรณบุรี ได้เตรียมความพร้อมดำเนินงานโครงการ OTOP เคลื่อนที่ (OTOP Mobile) ดังนี้",
    "### ๑) กิจกรรมประชุมกลไกการขับเคลื่อนการจัดแสดงและจำหน่ายผลิตภัณฑ์ OTOP",
    "(๑) การประชุมกลไกการขับเคลื่อนการจัดแสดงและจำหน่ายผลิตภัณฑ์ OTOP ภายใต้โครงการ OTOP เคลื่อนที่ (OTOP Mobile) "
    "ในวันที่ ๒๔ มิถุนายน ๒๕๖๒ ณ โรงแรมเลิศธานี อ.เมืองฯ จ.สุพรรณบุรี เวลา ๐๘.๓๐ - ๑๖.๓๐ น. กลุ่มเป้าหมาย ประกอบด้วย "
    "คณะกรรมการเครือข่าย OTOP , คณะทำงานตลาดประชารัฐ คนไทยยิ้มได้ จังหวัดสุพรรณบุรี ,เจ้าหน้าที่พัฒนาชุมชนอำเภอ"
    "ที่รับผิดชอบงานตลาดฯ รวมทั้งหมดจำนวน ๔๐ คน วัตถุประสงค์เพื่อสร้างความเข้าใจ เกี่ยวกับการดำเนินงานโครงการ "
    "OTOP เคลื่อนที่ (OTOP Mobile) และจัดทำแผนปฏิบัติงานขับเคลื่อนโครงการฯ",
    "### ๒) ดำเนินการติดตามโครงการ OTOP เคลื่อนที่ (OTOP Mobile)",
    "(๑) แต่งตั้งคณะกรรมการติดตามโครงการ OTOP เคลื่อนที่ (OTOP Mobile) ระดับจังหวัด ประกอบด้วยคณะกรรมการเครือข่าย "
    "OTOP , คณะทำงานตลาดประชารัฐ คนไทยยิ้มได้ จังหวัดสุพรรณบุรี และเจ้าหน้าที่พัฒนาชุมชนอำเภอ/จังหวัด",
    "เพื่อติดตาม สนับสนุน การขับเคลื่อนการจัดแสดง และจำหน่ายผลิตภัณฑ์ OTOP และประเมินผลการดำเนินงานในแต่ละตลาด",
    "(๒) คณะกรรมการติดตามโครงการ OTOP เคลื่อนที่ (OTOP Mobile) ระดับจังหวัด รายงานผลให้กรมฯ ทราบ",
    "## ๒ แผนการดำเนินงานตามโครงการไตรมาส ๓ - ๔ (มิถุนายน ๒๕๖๒ - กันยายน ๒๕๖๒)",
    "| ที่ | ชื่อโครงการ/กิจกรรม | กลุ่มเป้าหมาย | ระยะเวลาดำเนินการ | สถานที่ดำเนินการ | แหล่งงบประมาณ |",
    "| ๑ | โครงการ OTOP เคลื่อนที่ (OTOP Mobile) | ๒๐ ผลิตภัณฑ์/ตลาด | ไตรมาส ๓-๔ (มิ.ย.-ก.ย.๖๒) "
    "| ตลาดประชารัฐและแหล่งท่องเที่ยวจังหวัดสุพรรณบุรี | งบบุคลากรฯ |",
    "## ๓ ปัญหา / อุปสรรค / ข้อเสนอแนะ",
    "- ปัญหา / อุปสรรค",
    *(f"- {n}) {text}" for n, (_, text) in zip("๑๒๓", PROBLEMS, strict=False)),
    "- ข้อเสนอแนะ",
    *(f"- {n}) {text}" for n, (_, text) in zip("๑๒", RECOMMENDATIONS, strict=False)),
]


async def enter_the_seed(http, kafka) -> None:
    await publish(kafka, PLAN)  # the scheduling service's plan
    created = await http.post("/provinces/72/activities", json=MEETING, headers=OFFICER)
    assert created.status_code == 201, created.text
    committee = await http.post(
        "/provinces/72/committees", json={"appointed_on": "2019-06-25"}, headers=OFFICER
    )
    assert committee.status_code == 201, committee.text
    for name, role in MEMBERS:
        member = await http.post(
            f"/provinces/72/committees/{committee.json()['id']}/members",
            json={"name": name, "role": role},
            headers=OFFICER,
        )
        assert member.status_code == 201, member.text
    for kind, entries in (("problem", PROBLEMS), ("recommendation", RECOMMENDATIONS)):
        for category, text in entries:
            issue = await http.post(
                "/provinces/72/issues",
                headers=OFFICER,
                json={"kind": kind, "category": category, "text": text, "year": 2562, "month": 6},
            )
            assert issue.status_code == 201, issue.text


async def test_the_june_2562_suphanburi_report_says_what_the_seed_says(database_url, kafka):
    await skip_earlier_events(kafka)
    async with running_service(spec, database_url, kafka) as http:
        await enter_the_seed(http, kafka)
        path = "/provinces/72/reports/2562/6"
        model = await report_shows(http, path, lambda r: r["plan"]["rows"], digits="thai")

        assert model["title"] == "สรุปการดำเนินงานโครงการหนึ่งตำบล หนึ่งผลิตภัณฑ์ (OTOP) เดือนมิถุนายน ๒๕๖๒"
        assert (model["province_name"], model["period"]["year_be"], model["period"]["month"]) == (
            "สุพรรณบุรี",
            2562,
            6,
        )
        [meeting] = model["progress"]["activities"]
        assert (meeting["held_on"], meeting["starts_at"], meeting["ends_at"], meeting["participants"]) == (
            "2019-06-24",
            "08:30:00",
            "16:30:00",
            40,
        )
        assert meeting["venue"] == "โรงแรมเลิศธานี อ.เมืองฯ จ.สุพรรณบุรี"
        [committee] = model["progress"]["committees"]
        assert committee["appointed_on"] == "2019-06-25" and committee["members"] == 4
        assert [r["role"] for r in committee["roles"]] == [role for _, role in MEMBERS]
        [row] = model["plan"]["rows"]
        assert {k: row[k] for k in ("project_name", "target_group", "period", "place", "budget_source")} == {
            "project_name": "โครงการ OTOP เคลื่อนที่ (OTOP Mobile)",
            "target_group": "๒๐ ผลิตภัณฑ์/ตลาด",
            "period": "ไตรมาส ๓-๔ (มิ.ย.-ก.ย.๖๒)",
            "place": "ตลาดประชารัฐและแหล่งท่องเที่ยวจังหวัดสุพรรณบุรี",
            "budget_source": "งบบุคลากรฯ",
        }
        assert model["results"]["summary"]["market_days_planned"] == 4
        assert model["results"]["summary"]["products_target_per_market"] == 20
        assert [(p["category"], p["text"]) for p in model["issues"]["problems"]] == PROBLEMS
        assert [(r["category"], r["text"]) for r in model["issues"]["recommendations"]] == RECOMMENDATIONS

        text = await http.get(path, params={"format": "text", "digits": "thai"}, headers=OFFICER)
        assert text.status_code == 200 and text.headers["content-type"].startswith("text/markdown")
        lines = text.text
        for expected in SEED_TEXT:
            assert expected in lines, expected
        positions = [lines.index(expected) for expected in SEED_TEXT]
        assert positions == sorted(positions)  # in the seed's order

        # Arabic digits unless Thai ones are asked for; the year may be given CE.
        arabic = await report(http, "/provinces/72/reports/2019/6")
        assert arabic["subheading"] == "เดือนมิถุนายน 2562" and arabic["thai_digits"] is False
        assert arabic["plan"]["rows"][0]["target_group"] == "20 ผลิตภัณฑ์/ตลาด"
        assert "เวลา 08.30 - 16.30 น." in arabic["progress"]["activities"][0]["text"]

        # The fiscal quarter holding June (Q3 2562, April-June) has the same content.
        quarter = await report(http, "/provinces/72/reports/2562/quarters/3", digits="thai")
        assert quarter["subheading"] == "ไตรมาส ๓ ปีงบประมาณ ๒๕๖๒ (เมษายน ๒๕๖๒ - มิถุนายน ๒๕๖๒)"
        assert quarter["progress"]["activities"] == model["progress"]["activities"]
        assert (
            len(quarter["issues"]["problems"]) == 3
            and quarter["results"]["summary"]["market_days_planned"] == 4
        )
