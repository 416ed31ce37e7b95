"""The whole country's OTOP Mobile season, generated from a seed (no I/O): all 77 provinces, June–September
2562 (2019), at the programme's real size or a fraction of it.

Size. About 97,800 producers and 220,800 products are registered nationally (issue 16); Suphanburi has 963
producers and 2,158 products. No per-province table of those counts is available offline, so the other 76
provinces share the rest in proportion to their number of tambons (the programme's unit: one tambon, one
product) from the DOPA codes of the `geothai` package (7,436 tambons; Nakhon Ratchasima 289, Phuket 17),
rounded by largest remainder so the national totals are exact. Suphanburi keeps its known figures. A
province's products are spread over its producers: every producer has one, the rest go to producers drawn
at random (SMEs three times, community groups twice as likely as single owners), at most 12 each.

`national_season(scale)` scales the producer and product counts (never below what a lineup of 20 with
declines needs); market days (4 a month per province), lineups (20–30 products, by province size), venues,
committees and sales per product and market day stay at their real size, so a small run exercises the same
flow. What depends on the services' answers (which products are proposed, hence who declines, who sells
what) is drawn while loading from `rng_for(...)`, keyed by province, day and the product's row.

Sales: a POS sale is one customer's purchase. Per product and market day the number of sales depends on the
price (`SALES_PER_DAY`: about 18 for goods under 100 baht, 8 under 300, 3 under 1,000, 1 above), one to
three items each: a market of 20–30 stalls makes 150–350 sales and 15,000–40,000 baht in its 5–7 hours,
in line with the demo province. Nationally that is about 1,250 market days and 280,000 sales for the
season; in real time, 77 markets on a Saturday sell about one item a second between them.
"""

import csv
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import geothai

from deploy.local.demo_data import (
    CATALOGUE,
    CATEGORY_WEIGHTS,
    COMMITTEE,
    FIRST_NAMES,
    GROUP_NAMES,
    LAST_NAMES,
    MONTHS,
    PROBLEMS,
    THAILAND,
    YEAR,
    YEAR_BE,
    follow_up_meetings,
    monthly_issues,
    paused_for_shortage,
    product_row,
)

SEED = 16
NATIONAL_PRODUCERS, NATIONAL_PRODUCTS = 97_800, 220_800
KNOWN = {"72": (963, 2_158)}  # province -> (producers, products) from the programme's own figures
MIN_PRODUCERS, MIN_PRODUCTS = 24, 48  # enough for a lineup of 20 with declines, paused producers and caps
MAX_PRODUCTS_PER_PRODUCER = 12
PAUSED_SHARE = 0.05  # producers paused for a raw-material shortage (ขาดวัตถุดิบ) part of the season
MARKET_DAYS_PER_MONTH = 4
# Sales per product and market day, by unit price: (price below, mean number of sales, items per sale).
SALES_PER_DAY = (
    (Decimal(100), 18, (1, 1, 1, 2, 2, 3)),
    (Decimal(300), 8, (1, 1, 2)),
    (Decimal(1000), 3, (1,)),
    (None, 1, (1,)),
)
PRODUCER_TYPE_WEIGHTS = {"community_group": 6, "single_owner": 3, "sme": 1}
EXTRA_PRODUCT_WEIGHT = {"community_group": 2, "single_owner": 1, "sme": 3}


def rng_for(*keys: object) -> random.Random:
    """A generator of its own for each thing drawn while loading, so one answer of the services does not
    shift everything drawn after it."""
    return random.Random("/".join(map(str, ("national", SEED, *keys))))


def _largest_remainder(total: int, weights: dict[str, int]) -> dict[str, int]:
    whole = sum(weights.values())
    shares = {k: total * w / whole for k, w in weights.items()}
    counts = {k: int(s) for k, s in shares.items()}
    for k in sorted(shares, key=lambda k: (counts[k] - shares[k], k))[: total - sum(counts.values())]:
        counts[k] += 1
    return counts


@dataclass(frozen=True)
class ProvinceSize:
    code: str
    name_th: str
    name_en: str
    tambons: int
    producers: int
    products: int


def tambon_counts() -> dict[str, int]:
    return {
        p.code: sum(len(geothai.subdistricts(d.code)) for d in geothai.districts(p.code))
        for p in geothai.provinces()
    }


def province_sizes(scale: float = 1.0) -> list[ProvinceSize]:
    """Every province's producers and products at `scale` (1.0: the real size), largest first."""
    tambons = tambon_counts()
    rest = {code: n for code, n in tambons.items() if code not in KNOWN}
    producers = {
        **_largest_remainder(NATIONAL_PRODUCERS - sum(p for p, _ in KNOWN.values()), rest),
        **{code: p for code, (p, _) in KNOWN.items()},
    }
    products = {
        **_largest_remainder(NATIONAL_PRODUCTS - sum(q for _, q in KNOWN.values()), rest),
        **{code: q for code, (_, q) in KNOWN.items()},
    }
    sizes = []
    for province in geothai.provinces():
        code = province.code
        n_producers = max(MIN_PRODUCERS, round(producers[code] * scale))
        n_products = min(
            max(MIN_PRODUCTS, round(products[code] * scale), n_producers),
            n_producers * MAX_PRODUCTS_PER_PRODUCER,
        )
        sizes.append(
            ProvinceSize(code, province.name_th, province.name_en, tambons[code], n_producers, n_products)
        )
    return sorted(sizes, key=lambda s: (-s.products, s.code))


def province_th(size: ProvinceSize) -> str:
    """How a province is named in Thai text: จังหวัดสุพรรณบุรี, but กรุงเทพมหานคร."""
    return size.name_th if size.code == "10" else f"จังหวัด{size.name_th}"


def lineup_target(products: int) -> int:
    """Products a market day, by the province's size (the programme asks for at least 20)."""
    return 20 if products < 2_500 else 25 if products < 5_000 else 30


@dataclass(frozen=True)
class MarketDay:
    index: int  # 0-15 within the province's season
    venue: int
    day: date
    starts_at: time
    ends_at: time

    def sold_at(self, rng: random.Random) -> datetime:
        start = datetime.combine(self.day, self.starts_at, THAILAND)
        span = datetime.combine(self.day, self.ends_at, THAILAND) - start
        return start + timedelta(seconds=rng.randrange(int(span.total_seconds())))


@dataclass
class Province:
    size: ProvinceSize
    rows: list[dict]  # the registry's import sheet: one row per product, its producer's columns beside it
    paused: dict[str, dict]  # producer name -> availability
    venues: list[dict]
    plan: dict
    market_days: list[MarketDay]
    committee: dict
    activities: list[dict]
    issues: list[dict]
    prices: list[Decimal] = field(init=False)

    def __post_init__(self) -> None:
        self.prices = [Decimal(row["price_thb"]) for row in self.rows]

    @property
    def code(self) -> str:
        return self.size.code

    def sheets(self, max_rows: int) -> list[tuple[int, bytes]]:
        """The import sheet in files of at most `max_rows` rows, a producer's rows in one file; each with
        the index of its first row."""
        files, start = [], 0
        while start < len(self.rows):
            end = min(start + max_rows, len(self.rows))
            while (
                end < len(self.rows)
                and self.rows[end]["producer_name"] == self.rows[end - 1]["producer_name"]
            ):
                end -= 1
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(self.rows[0]))
            writer.writeheader()
            writer.writerows(self.rows[start:end])
            files.append((start, out.getvalue().encode()))
            start = end
        return files


def sales_for(price: Decimal, rng: random.Random) -> list[int]:
    """Items of each sale of one product on one market day."""
    for below, mean, items in SALES_PER_DAY:
        if below is None or price < below:
            return [rng.choice(items) for _ in range(rng.randint(0, 2 * mean))]
    raise AssertionError("unreachable")


def _producers(rng: random.Random, size: ProvinceSize) -> list[dict]:
    districts = geothai.districts(size.code)
    tambons = [(d, t) for d in districts for t in geothai.subdistricts(d.code)]
    producers: list[dict] = []
    names: set[str] = set()
    while len(producers) < size.producers:
        amphoe, tambon = rng.choice(tambons)
        kind = rng.choices(list(PRODUCER_TYPE_WEIGHTS), weights=list(PRODUCER_TYPE_WEIGHTS.values()))[0]
        village = rng.randint(1, 20)
        if kind == "community_group":
            name = f"{rng.choice(GROUP_NAMES)} หมู่ {village} ตำบล{tambon.name_th}"
        elif kind == "single_owner":
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} (หมู่ {village} ตำบล{tambon.name_th})"
        else:
            name = f"ห้างหุ้นส่วนจำกัด {tambon.name_th}โอทอป {village}"
        if name in names:
            continue
        names.add(name)
        producers.append(
            {
                "producer_name": name,
                "producer_type": kind,
                "experienced": str(rng.random() > 0.25).lower(),
                "amphoe_code": amphoe.code,
                "tambon_code": tambon.code,
                "contact_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                "phone": f"08{rng.randrange(10)}-{rng.randrange(1000):03d}-{rng.randrange(10000):04d}",
                "category": rng.choices(list(CATALOGUE), weights=CATEGORY_WEIGHTS)[0],
                "nawatwithi": rng.random() < 0.35,
                "place": tambon.name_th,
            }
        )
    return producers


def _rows(rng: random.Random, size: ProvinceSize, producers: list[dict]) -> list[dict]:
    counts = [1] * len(producers)
    weights = [EXTRA_PRODUCT_WEIGHT[p["producer_type"]] for p in producers]
    extra = size.products - len(producers)
    while extra:
        i = rng.choices(range(len(producers)), weights=weights)[0]
        if counts[i] < MAX_PRODUCTS_PER_PRODUCER:
            counts[i] += 1
            extra -= 1
    rows = []
    for producer, count in zip(producers, counts, strict=True):
        for _ in range(count):
            category = (
                producer["category"]
                if rng.random() < 0.8
                else rng.choices(list(CATALOGUE), weights=CATEGORY_WEIGHTS)[0]
            )
            base_names, unit, prices = CATALOGUE[category]
            rows.append(
                product_row(
                    rng, producer, category, f"{rng.choice(base_names)} {producer['place']}", unit, prices
                )
            )
    return rows


def _venues(rng: random.Random, size: ProvinceSize) -> list[dict]:
    """Three Pracharat markets (the provincial hall's, two districts') and two OTOP Nawatwithi villages."""
    districts = geothai.districts(size.code)
    town, others = districts[0], rng.sample(districts[1:] or districts, min(2, max(1, len(districts) - 1)))
    venues: list[tuple[Any, ...]] = [(f"ตลาดประชารัฐ คนไทยยิ้มได้ {province_th(size)}", "pracharat_market", town)]
    venues += [(f"ตลาดประชารัฐ คนไทยยิ้มได้ อำเภอ{d.name_th}", "pracharat_market", d) for d in others]
    while len(venues) < 5:
        district = rng.choice(districts)
        tambon = rng.choice(geothai.subdistricts(district.code))
        name = f"ชุมชนท่องเที่ยว OTOP นวัตวิถี ตำบล{tambon.name_th}"
        if all(v[0] != name for v in venues):
            venues.append((name, "tourist_spot", district, tambon))
    result = []
    for venue in venues:
        name, kind, district = venue[:3]
        tambon = venue[3] if len(venue) > 3 else rng.choice(geothai.subdistricts(district.code))
        result.append(
            {
                "name": name,
                "kind": kind,
                "amphoe_code": district.code,
                "tambon_code": tambon.code,
                "contact_name": rng.choice(FIRST_NAMES),
                "phone": f"0{rng.randrange(32, 78)}-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
            }
        )
    return result


def _market_days(rng: random.Random) -> list[MarketDay]:
    """Four a month on the province's market weekday (Friday to Sunday), mornings or evenings, the venues
    in turn."""
    weekday = rng.choice([4, 5, 5, 6])
    days: list[MarketDay] = []
    for month in MONTHS:
        dates = [date(YEAR, month, d) for d in range(1, 31) if date(YEAR, month, d).weekday() == weekday]
        for day in dates[:MARKET_DAYS_PER_MONTH]:
            evening = rng.random() < 0.4
            days.append(
                MarketDay(
                    len(days),
                    len(days) % 5,
                    day,
                    time(16) if evening else time(8),
                    time(21) if evening else time(15),
                )
            )
    return days


def _committee(size: ProvinceSize) -> dict:
    return {
        "appointed_on": (date(YEAR, MONTHS[0], 1) - timedelta(days=10)).isoformat(),
        "order_ref": f"คำสั่ง{province_th(size)} ที่ {int(size.code) * 17}/{YEAR_BE}",
        "members": [{"name": n, "role": r, "position": p} for n, r, p in COMMITTEE],
    }


def _meetings(rng: random.Random, size: ProvinceSize) -> list[dict]:
    first = {
        "title": "การประชุมกลไกการขับเคลื่อนการจัดแสดงและจำหน่ายผลิตภัณฑ์ OTOP ภายใต้โครงการ OTOP เคลื่อนที่ (OTOP Mobile)",
        "held_on": f"{YEAR}-06-{rng.choice([20, 21, 24, 25])}",
        "venue": f"ห้องประชุม{province_th(size)}",
        "starts_at": "08:30",
        "ends_at": "16:30",
        "target_group": f"คณะกรรมการเครือข่าย OTOP, คณะทำงานตลาดประชารัฐ คนไทยยิ้มได้ {province_th(size)}",
        "participants": rng.randrange(30, 60),
        "purpose": "เพื่อสร้างความเข้าใจเกี่ยวกับการดำเนินงานโครงการ และจัดทำแผนปฏิบัติงานขับเคลื่อนโครงการฯ",
    }
    return [first, *follow_up_meetings(rng, f"สำนักงานพัฒนาชุมชน{province_th(size)}")]


def province_season(size: ProvinceSize) -> Province:
    """One province's season, the same for the same size every time."""
    rng = random.Random(f"national/{SEED}/{size.code}")
    producers = _producers(rng, size)
    target = lineup_target(size.products)
    return Province(
        size=size,
        rows=_rows(rng, size, producers),
        paused=paused_for_shortage(rng, rng.sample(producers, max(1, round(len(producers) * PAUSED_SHARE)))),
        venues=_venues(rng, size),
        plan={
            "first_month": f"{YEAR}-{MONTHS[0]:02d}",
            "last_month": f"{YEAR}-{MONTHS[-1]:02d}",
            "market_days_per_month": MARKET_DAYS_PER_MONTH,
            "products_per_market_day": target,
            "target_group": f"อย่างน้อย {target} ผลิตภัณฑ์/ตลาด",
            "budget_source": "งบบุคลากรฯ",
        },
        market_days=_market_days(rng),
        committee=_committee(size),
        activities=_meetings(rng, size),
        issues=monthly_issues(lambda month: rng.sample(list(PROBLEMS), rng.randint(1, 3))),
    )


def national_season(scale: float = 1.0, provinces: list[str] | None = None) -> Iterator[Province]:
    """Every province (or those named), largest first, each generated when asked for (the whole country's
    sheets at once would hold some 220,000 rows)."""
    return (
        province_season(size) for size in province_sizes(scale) if not provinces or size.code in provinces
    )
