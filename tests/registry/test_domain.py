"""Registry rules, the file layout and mentoring, without I/O."""

import io
from datetime import date
from decimal import Decimal
from uuid import uuid4

import openpyxl
import pytest
from pydantic import ValidationError

from services.registry import spreadsheets
from services.registry.domain import sheet
from services.registry.domain.catalogue import (
    Availability,
    NewProduct,
    Problem,
    Problems,
    ProducerFields,
    location_problems,
    province_exists,
)
from services.registry.domain.mentoring import MentoringGroup, Profile, membership_problems, suggest_groups
from shared.contracts.registry import ProductCategory

FOOD, HERBAL = ProductCategory.FOOD, ProductCategory.HERBAL


def errors(model, **values) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(values)
    return {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}


# --- producers and products


def test_an_unavailable_producer_says_why_and_until_follows_from():
    assert errors(Availability, available=False) == {
        "unavailable_reason": "Value error, say why the producer is unavailable"
    }
    assert "unavailable_until" in errors(
        Availability,
        available=False,
        unavailable_reason="ขาดวัตถุดิบ",
        unavailable_from="2019-07-10",
        unavailable_until="2019-07-01",
    )
    assert errors(Availability, available=True, unavailable_reason="ขาดวัตถุดิบ") == {
        "unavailable_reason": "Value error, only for an unavailable producer"
    }
    paused = Availability(available=False, unavailable_reason="ขาดวัตถุดิบ", unavailable_until=date(2019, 8, 1))
    assert paused.unavailable_until == date(2019, 8, 1)


def test_star_year_is_a_buddhist_era_year_with_a_hint_for_a_common_era_one():
    assert (
        NewProduct(
            name="ผ้าไหม",
            category="textile",
            star_level=4,
            star_year=2562,
            quadrant="B",
            nawatwithi=False,
            price_thb="1200",
            unit="ผืน",
        ).star_year
        == 2562
    )
    base = {
        "name": "ผ้าไหม",
        "category": "textile",
        "star_level": 4,
        "quadrant": "B",
        "nawatwithi": False,
        "price_thb": "1200",
        "unit": "ผืน",
    }
    assert "(a Buddhist Era year: 2562?)" in errors(NewProduct, **base, star_year=2019)["star_year"]
    assert "star_year" in errors(NewProduct, **base, star_year=date.today().year + 544)
    assert set(errors(NewProduct, **base | {"star_level": 0, "price_thb": "-1"}, extra=1)) == {
        "star_level",
        "price_thb",
        "extra",
    }


def test_locations_are_checked_against_dopa_codes():
    assert province_exists("72") and not province_exists("99")
    assert location_problems("72", "7201", "720101") == []  # อ.เมืองสุพรรณบุรี, ต.ท่าพี่เลี้ยง
    assert [p.loc for p in location_problems("72", "1001", None)] == [
        ("body", "amphoe_code")
    ]  # a Bangkok khet
    assert [p.loc for p in location_problems("72", "7201", "720201")] == [
        ("body", "tambon_code")
    ]  # of อ.เดิมบางนางบวช
    assert [p.loc for p in location_problems("72", "7299", "729901")] == [
        ("body", "amphoe_code"),
        ("body", "tambon_code"),
    ]


def test_a_producer_given_only_its_tambon_gets_the_tambons_amphoe():
    producer = ProducerFields(
        name=" กลุ่มแม่บ้านบ้านโพธิ์ ", producer_type="community_group", experienced=False, tambon_code="720101"
    )
    assert (producer.name, producer.amphoe_code) == ("กลุ่มแม่บ้านบ้านโพธิ์", "7201")
    assert set(errors(ProducerFields, name="x", producer_type="coop", experienced=True, phone="call me")) == {
        "producer_type",
        "phone",
    }


def test_problems_of_an_imported_row_name_the_row_and_field():
    assert Problem(("row", 3, "star_level"), "too many").as_dict() == {
        "loc": ["row", 3, "star_level"],
        "msg": "too many",
        "type": "invalid",
        "row": 3,
        "field": "star_level",
    }
    assert "row" not in Problem(("body", "name"), "empty").as_dict()


# --- the file layout

HEADER_TH = (
    "ชื่อผลิตภัณฑ์,ประเภทผลิตภัณฑ์,ระดับดาว,กลุ่มผลิตภัณฑ์,OTOP นวัตวิถี,ราคา "
    "(บาท),หน่วยนับ,ชื่อผู้ผลิต,ประเภทผู้ผลิต,ผู้ผลิตมีประสบการณ์,รหัสตำบล,หมายเหตุ"
)


def rows_of(text: str, encoding: str = "utf-8") -> list[sheet.SheetRow]:
    return sheet.sheet_rows(spreadsheets.read_table(text.encode(encoding), "text/csv"))


def test_thai_headers_and_labels_are_read_as_codes_and_unknown_columns_ignored():
    text = (
        f"{HEADER_TH}\n"
        'ข้าวตังหน้าธัญพืช,อาหาร,3,d,ใช่,"1,045.50",กล่อง,กลุ่มแม่บ้านบ้านโพธิ์,กลุ่มผู้ผลิตชุมชน,ไม่ใช่,720101,x\n'
        ",,,,,,,,,,,\n"
    )
    [row] = rows_of(text)
    assert row.number == 2
    assert row.cells == {
        "name": "ข้าวตังหน้าธัญพืช",
        "category": "food",
        "star_level": "3",
        "quadrant": "D",
        "nawatwithi": "true",
        "price_thb": "1045.50",
        "unit": "กล่อง",
        "producer_name": "กลุ่มแม่บ้านบ้านโพธิ์",
        "producer_type": "community_group",
        "experienced": "false",
        "tambon_code": "720101",
    }
    assert rows_of(text.replace("\n", "\r\n"), "cp874") == [row]  # Excel's CSV on Thai Windows


def test_a_header_without_a_required_column_is_refused():
    with pytest.raises(Problems) as caught:
        rows_of("name,category,star_level,quadrant,price_thb,price_thb\nx,food,1,D,1,1\n")
    assert {(p.loc, p.type) for p in caught.value.problems} == {
        (("row", 1, "nawatwithi"), "missing_column"),
        (("row", 1, "unit"), "missing_column"),
        (("row", 1, "price_thb"), "duplicate_column"),
    }


@pytest.mark.parametrize(
    "data,content_type",
    [(b"PK\x03\x04garbage", spreadsheets.XLSX_TYPE), (b"name\xff\xfc", "text/csv"), (b"", "text/csv")],
)
def test_an_unreadable_file_is_refused_not_crashed_on(data, content_type):
    with pytest.raises(Problems) as caught:
        sheet.sheet_rows(spreadsheets.read_table(data, content_type))
    assert caught.value.problems[0].loc == ("file",)


def test_a_workbook_that_unpacks_to_too_much_is_refused_before_it_is_read(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_XLSX_UNPACKED_BYTES", 1000)
    with pytest.raises(Problems) as caught:
        spreadsheets.read_table(
            spreadsheets.to_xlsx([["name"], *[["ข้าวตัง" * 10]] * 50]), spreadsheets.XLSX_TYPE
        )
    assert [p.type for p in caught.value.problems] == ["too_large"]


def test_an_xlsx_file_reads_like_the_csv_and_export_writes_the_same_layout():
    product = {
        "product_id": uuid4(),
        "name": "น้ำพริกเผา",
        "category": "food",
        "star_level": 2,
        "star_year": 2562,
        "quadrant": "D",
        "nawatwithi": False,
        "price_thb": Decimal("60.00"),
        "unit": "กระปุก",
        "status": "active",
        "producer_id": None,
        "producer_name": None,
    }
    for lang in sheet.Lang:
        table = sheet.export_table([product], lang)
        from_xlsx = sheet.sheet_rows(
            spreadsheets.read_table(spreadsheets.to_xlsx(table), spreadsheets.XLSX_TYPE)
        )
        from_csv = sheet.sheet_rows(spreadsheets.read_table(spreadsheets.to_csv(table), "text/csv"))
        for [read] in (from_xlsx, from_csv):
            assert Decimal(read.cells.pop("price_thb")) == Decimal(60)  # 60.00 in CSV, the number 60 in XLSX
            assert read.cells == {
                "product_id": str(product["product_id"]),
                "name": "น้ำพริกเผา",
                "category": "food",
                "star_level": "2",
                "star_year": "2562",
                "quadrant": "D",
                "nawatwithi": "false",
                "unit": "กระปุก",
                "status": "active",
            }
    assert sheet.export_table([product], sheet.Lang.TH)[1][2] == "อาหาร"


def test_xlsx_cells_of_other_types_become_text():
    workbook = openpyxl.Workbook()
    workbook.active.append(
        ["name", "category", "star_level", "quadrant", "nawatwithi", "price_thb", "unit", "tambon_code"]
    )
    workbook.active.append(["ผ้าขาวม้า", "textile", 3.0, "D", True, 250.5, "ผืน", 720101])
    out = io.BytesIO()
    workbook.save(out)
    [row] = sheet.sheet_rows(spreadsheets.read_table(out.getvalue(), spreadsheets.XLSX_TYPE))
    assert row.cells == {
        "name": "ผ้าขาวม้า",
        "category": "textile",
        "star_level": "3",
        "quadrant": "D",
        "nawatwithi": "true",
        "price_thb": "250.5",
        "unit": "ผืน",
        "tambon_code": "720101",
    }


# --- planning an import

PRODUCT = {
    "name": "ข้าวตัง",
    "category": "food",
    "star_level": "2",
    "quadrant": "D",
    "nawatwithi": "true",
    "price_thb": "45",
    "unit": "กล่อง",
}
NEW_PRODUCER = {
    "producer_name": "กลุ่มแม่บ้าน บ้านโพธิ์",
    "producer_type": "community_group",
    "experienced": "false",
}


def row(number: int, **cells) -> sheet.SheetRow:
    return sheet.SheetRow(number, {**PRODUCT, **cells})


def producer_row(name: str = "กลุ่มทอผ้าบ้านโพธิ์", **fields) -> dict:
    return {
        "name": name,
        "producer_type": "community_group",
        "experienced": True,
        "amphoe_code": "7201",
        "tambon_code": "720101",
        "contact_name": None,
        "phone": None,
        "public_contact_consent": False,
        **fields,
    }


def test_rows_naming_a_new_producer_register_it_once_and_link_its_products():
    plan = sheet.plan_import(
        "72",
        [row(2, **NEW_PRODUCER, tambon_code="720101"), row(3, producer_name="กลุ่มแม่บ้าน   บ้านโพธิ์")],
        {},
        {},
    )
    [(producer_id, new, fields)] = plan.producers
    assert new and fields["amphoe_code"] == "7201" and fields["experienced"] is False
    assert [(n, is_new, f["producer_id"]) for n, _, is_new, f in plan.products] == [
        (2, True, producer_id),
        (3, True, producer_id),
    ]


def test_a_row_names_an_existing_producer_by_name_or_id_and_updates_it():
    existing = uuid4()
    plan = sheet.plan_import(
        "72",
        [row(2, producer_name="กลุ่มทอผ้าบ้านโพธิ์", phone="081-234-5678"), row(3, producer_id=str(existing))],
        {existing: producer_row()},
        {},
    )
    assert plan.producers == [(existing, False, producer_row(phone="081-234-5678"))]
    assert {f["producer_id"] for *_, f in plan.products} == {existing}


def test_an_import_keeps_a_producers_public_contact_consent():
    existing = uuid4()
    plan = sheet.plan_import(
        "72",
        [row(2, producer_id=str(existing), phone="081-234-5678")],
        {existing: producer_row(public_contact_consent=True)},
        {},
    )
    [(_, _, fields)] = plan.producers
    assert (fields["public_contact_consent"], fields["phone"]) == (True, "081-234-5678")


def test_an_existing_product_keeps_what_empty_cells_leave_out():
    product_id, producer_id = uuid4(), uuid4()
    current = {
        "name": "ข้าวตัง",
        "category": "food",
        "star_level": 2,
        "star_year": 2560,
        "quadrant": "D",
        "nawatwithi": True,
        "price_thb": Decimal("45.00"),
        "unit": "กล่อง",
        "status": "active",
        "producer_id": producer_id,
    }
    plan = sheet.plan_import(
        "72", [row(2, product_id=str(product_id), price_thb="50")], {}, {product_id: current}
    )
    [(number, same_id, new, fields)] = plan.products
    assert (number, same_id, new) == (2, product_id, False)
    assert (fields["price_thb"], fields["star_year"], fields["producer_id"]) == (
        Decimal("50"),
        2560,
        producer_id,
    )


def test_every_problem_of_every_row_is_reported_with_its_row_and_column():
    twin_a, twin_b, product_id = uuid4(), uuid4(), uuid4()
    producers = {twin_a: producer_row("กลุ่มสมุนไพร"), twin_b: producer_row("กลุ่มสมุนไพร")}
    rows = [
        row(2, star_level="6", quadrant="E"),
        row(3, producer_name="กลุ่มสมุนไพร"),
        row(4, **NEW_PRODUCER, tambon_code="100101"),
        row(5, producer_name=NEW_PRODUCER["producer_name"], experienced="true"),
        row(6, product_id=str(product_id)),
        row(7, producer_id="not-an-id"),
        row(8, producer_name="ผู้ผลิตใหม่"),
    ]
    with pytest.raises(Problems) as caught:
        sheet.plan_import("72", rows, producers, {})
    assert [(p.loc[1], p.loc[2], p.type) for p in caught.value.problems] == [
        (2, "star_level", "less_than_equal"),
        (2, "quadrant", "enum"),
        (3, "producer_name", "ambiguous"),
        (4, "amphoe_code", "location"),  # a Bangkok tambon: its amphoe is not of province 72
        (5, "experienced", "conflict"),
        (6, "product_id", "unknown"),
        (7, "producer_id", "unknown"),
        (8, "producer_type", "missing"),
        (8, "experienced", "missing"),
    ]


def test_a_product_twice_in_a_file_is_refused():
    product_id = uuid4()
    current = {
        **PRODUCT,
        "star_level": 2,
        "nawatwithi": True,
        "price_thb": Decimal(45),
        "status": "active",
        "star_year": None,
        "producer_id": None,
    }
    with pytest.raises(Problems) as caught:
        sheet.plan_import(
            "72",
            [row(2, product_id=str(product_id)), row(3, product_id=str(product_id))],
            {},
            {product_id: current},
        )
    assert [p.as_dict()["msg"] for p in caught.value.problems] == ["also on row 2"]


# --- mentoring


def profile(name: str, experienced: bool, *categories, amphoe: str = "7201", **more) -> Profile:
    return Profile(uuid4(), name, experienced, amphoe, frozenset(categories), **more)


def test_a_group_has_distinct_mentors_and_mentees():
    same = uuid4()
    assert "both a mentor and a mentee" in str(
        errors(MentoringGroup, name="g", category="food", mentor_ids=[same], mentee_ids=[same])
    )
    group = MentoringGroup(name="g", category="food", mentor_ids=[same, same], mentee_ids=[uuid4()])
    assert group.mentor_ids == [same]


def test_membership_rules():
    mentor, mentee = profile("พี่", True, FOOD), profile("น้อง", False, FOOD)
    other_group = uuid4()
    taken = profile("น้องมีกลุ่ม", False, FOOD, mentee_in=other_group)
    herbalist = profile("สมุนไพร", True, HERBAL)
    profiles = {p.producer_id: p for p in (mentor, mentee, taken, herbalist)}

    def problems(mentors, mentees, group_id=None, status="active"):
        group = MentoringGroup(
            name="g",
            category="food",
            mentor_ids=[p.producer_id for p in mentors],
            mentee_ids=[p.producer_id for p in mentees],
            status=status,
        )
        return [(p.loc, p.type) for p in membership_problems(group, profiles, group_id)]

    assert problems([mentor], [mentee]) == []
    assert problems([mentee, herbalist], [mentor, taken]) == [
        (("body", "mentor_ids", 0), "role"),
        (("body", "mentor_ids", 1), "category"),
        (("body", "mentee_ids", 0), "role"),
        (("body", "mentee_ids", 1), "already_mentored"),
    ]
    assert problems([mentor], [taken], group_id=other_group) == []  # its own group, replaced
    assert problems([mentee], [mentor], status="closed") == []  # a closed group is a record
    unknown = MentoringGroup(name="g", category="food", mentor_ids=[uuid4()], mentee_ids=[mentee.producer_id])
    assert [p.type for p in membership_problems(unknown, profiles)] == ["unknown_producer"]


def test_suggestions_pair_new_producers_with_a_mentor_of_their_category_and_amphoe_first():
    near = profile("ก พี่เลี้ยงใกล้", True, FOOD, amphoe="7202")
    far = profile("ข พี่เลี้ยงไกล", True, FOOD, HERBAL, amphoe="7201", mentees=1)
    new_near = profile("ค ใหม่ใกล้", False, FOOD, amphoe="7202")
    new_far = [profile(f"ง ใหม่ {i}", False, FOOD, amphoe="7203") for i in range(3)]
    herbal_new = profile("จ สมุนไพรใหม่", False, HERBAL)
    textile_new = profile("ฉ ผ้าใหม่", False, ProductCategory.TEXTILE)
    mentored = profile("ช มีกลุ่มแล้ว", False, FOOD, mentee_in=uuid4())
    groups, unmatched = suggest_groups([near, far, new_near, *new_far, herbal_new, textile_new, mentored])
    by_mentor = {(g.category, g.mentor_ids[0]): g.mentee_ids for g in groups}
    # near takes its amphoe's new producer, then the others go to whoever has fewest mentees
    assert by_mentor[(FOOD, near.producer_id)] == [
        new_near.producer_id,
        new_far[0].producer_id,
        new_far[2].producer_id,
    ]
    assert by_mentor[(FOOD, far.producer_id)] == [new_far[1].producer_id]
    assert by_mentor[(HERBAL, far.producer_id)] == [herbal_new.producer_id]
    assert unmatched == [(textile_new.producer_id, ProductCategory.TEXTILE)]
    assert all(g.name.startswith("กลุ่มพี่เลี้ยง") for g in groups)
