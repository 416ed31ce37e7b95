"""Is the programme working? Outcomes for the producers it exists for, from the read models: pure, no I/O.

Definitions (docs/outcomes.md says them to officers):
- A season is the market days of a calendar year that were not cancelled, up to the day asked about.
- Lineup: every invitation an officer sent for a market day, whatever the answer (withdrawn ones, which an
  officer took back, left out). A producer was invited to a market day if one of their products was.
- A producer attended a market day if the attendance record names them or one of their products sold
  that day; a product attended if the record names it or it sold.
- Sales per market day attended: a producer's sales over the days they attended, divided by those days.
- The programme's intended products: Quadrant D, 1-3 stars, or OTOP Nawatwithi (active products).
- Low sellers before the season: the events carry no sales from before the programme, so a product is a
  low seller if, in the season's first month with market days, its sales per market day attended were
  nothing or less than half the province's median; products not at market that month are unknown.
- Trend: a producer's sales per market day attended in their last month at market less their first.
Every comparison is observational: producers were not assigned to groups at random."""

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from statistics import median
from typing import NamedTuple
from uuid import UUID

from services.monitoring.domain.statistics import (
    Comparison,
    Estimate,
    Figure,
    Share,
    cents,
    compare,
    estimate,
    share,
)
from shared.contracts.scheduling import VenueKind

NOT_IN_LINEUP = "withdrawn"
OBSERVATIONAL_NOTE = (
    "ข้อสังเกต: ตัวเลขเหล่านี้มาจากการสังเกตผลการดำเนินงานจริง ไม่ได้มีกลุ่มเปรียบเทียบที่สุ่มไว้ "
    "ความแตกต่างระหว่างกลุ่มจึงบอกได้ว่า 'ต่างกัน' แต่ยังบอกไม่ได้ว่า 'เป็นเพราะโครงการ' "
    "ช่วงที่แสดงคือช่วงความเชื่อมั่น ๙๐% (บูตสแตรป หรือการประมาณแบบปกติเมื่อข้อมูลมาก) "
    "และกลุ่มที่มีน้อยกว่า ๕ รายจะแสดงว่า 'ข้อมูลไม่พอ'"
)


# --- the facts, as read from the read models (named tuples: the country's season has ~100,000 of them,
# and a tuple is built in a third of a frozen dataclass's time)


class MarketDay(NamedTuple):
    id: UUID
    day: date
    venue_kind: str


class Product(NamedTuple):
    id: UUID
    producer_id: UUID | None
    name: str
    category: str
    star_level: int
    quadrant: str
    nawatwithi: bool
    active: bool = True
    province_code: str = ""

    @property
    def intended(self) -> bool:
        """One the programme is for: Quadrant D, 1-3 stars or OTOP Nawatwithi."""
        return self.active and (self.quadrant == "D" or self.star_level <= 3 or self.nawatwithi)


class Producer(NamedTuple):
    id: UUID
    name: str
    experienced: bool


class Invitation(NamedTuple):
    market_day_id: UUID
    product_id: UUID
    producer_id: UUID | None
    status: str
    reason: str | None = None


class Attendance(NamedTuple):
    market_day_id: UUID
    producer_ids: frozenset[UUID]
    product_ids: frozenset[UUID]


class ProductDaySales(NamedTuple):
    """A product's counted (not voided) sales on one market day, in baht."""

    market_day_id: UUID
    product_id: UUID
    amount: Decimal


class MentoringGroup(NamedTuple):
    id: UUID
    name: str
    mentor_ids: frozenset[UUID]
    mentee_ids: frozenset[UUID]


@dataclass(frozen=True)
class NeverInvitedPage:
    """The province's intended products never invited, read a page at a time (a large province has
    thousands): how many are eligible, how many were never invited, and the page from `offset`."""

    eligible: int
    count: int
    offset: int
    products: Sequence["NeverInvited"]


@dataclass(frozen=True)
class Season:
    province_code: str
    market_days: Sequence[MarketDay]
    products: Mapping[UUID, Product]  # the province's products (and any other invited, at market or sold)
    producers: Mapping[UUID, Producer]
    invitations: Sequence[Invitation]
    attendance: Sequence[Attendance]
    sales: Sequence[ProductDaySales]
    groups: Sequence[MentoringGroup] = ()
    # None: `products` holds every product of the province, and the never-invited are found among them;
    # else `products` holds those the season touched, and the never-invited are this page.
    never_invited: NeverInvitedPage | None = None


# --- what is shown


class MonthFigure(Figure):
    month: date
    sales_per_market_day: Decimal


class ProducerRecord(Figure):
    producer_id: UUID
    name: str
    experienced: bool
    mentoring_group: str | None
    invited: int  # market days
    attended: int
    declined: int
    decline_reasons: dict[str, int]
    sales_thb: Decimal
    sales_per_market_day: Decimal | None
    months: list[MonthFigure]
    trend: Decimal | None  # last month at market less the first; None with fewer than two months


class MonthComparison(Figure):
    month: date
    new_vs_experienced: Comparison


class CriterionShare(Figure):
    criterion: str  # quadrant_d, stars_1_3, nawatwithi, low_seller, intended
    share: Share


class MonthEstimate(Figure):
    month: date
    estimate: Estimate


class ProgrammeQuestion(Figure):
    lineup: int  # invitations counted
    shares: list[CriterionShare]
    intended_producers_by_month: list[MonthEstimate]
    first_to_last_month: Comparison | None  # last month's producers against the first month's


class GroupSize(Figure):
    name: str
    mentors: int
    mentees: int


class Mentoring(Figure):
    """New producers in a mentoring group (a) against new producers in none (b)."""

    groups: list[GroupSize]
    sales_per_market_day: Comparison
    attendance_percent: Comparison
    decline_percent: Comparison


class VenueComparison(Figure):
    """Sales of a product on a market day: Pracharat markets (a) against tourist spots (b)."""

    category: str
    pracharat_vs_tourist: Comparison


class NeverInvited(Figure):
    product_id: UUID
    name: str
    producer_id: UUID | None
    producer_name: str | None
    category: str
    star_level: int
    quadrant: str
    nawatwithi: bool


class Fairness(Figure):
    eligible: int
    invited: Share  # of the eligible products, how many were invited at least once
    distribution: dict[int, int]  # invitations in the season -> eligible products
    never_invited: list[NeverInvited]  # a page of never_invited_count, from never_invited_offset
    never_invited_count: int
    never_invited_offset: int = 0


class ProvinceOutcomes(Figure):
    province_code: str
    first_day: date | None
    last_day: date | None
    market_days: int
    months: list[date]
    producers: list[ProducerRecord]
    new_vs_experienced: Comparison
    new_vs_experienced_by_month: list[MonthComparison]
    programme: ProgrammeQuestion
    mentoring: Mentoring
    venues: list[VenueComparison]
    fairness: Fairness
    note: str = OBSERVATIONAL_NOTE


def month_of(day: date) -> date:
    return day.replace(day=1)


def _rate(part: int, whole: int) -> Decimal:
    return cents(Decimal(100 * part) / whole)


@dataclass
class _Tally:
    """What one producer did over the season."""

    invited: set[UUID] = field(default_factory=set)
    declined: set[UUID] = field(default_factory=set)
    reasons: Counter[str] = field(default_factory=Counter)
    attended: set[UUID] = field(default_factory=set)
    sales: defaultdict[UUID, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def per_day(self, days: Iterable[UUID] | None = None) -> Decimal | None:
        """Sales per market day attended among `days` (None: the season's, all of them)."""
        attended = self.attended if days is None else [d for d in days if d in self.attended]
        if not attended:
            return None
        return cents(sum((self.sales[d] for d in attended), Decimal(0)) / len(attended))


class _Facts:
    """The season's facts indexed for the computations."""

    def __init__(self, season: Season) -> None:
        self.season = season
        self.days = {md.id: md for md in season.market_days}
        self.month = {md.id: month_of(md.day) for md in season.market_days}
        self.months = sorted(set(self.month.values()))
        self.products = season.products
        self.tallies: defaultdict[UUID, _Tally] = defaultdict(_Tally)
        self.product_days: defaultdict[tuple[UUID, UUID], Decimal] = defaultdict(Decimal)
        self.lineup = [
            i for i in season.invitations if i.market_day_id in self.days and i.status != NOT_IN_LINEUP
        ]
        for invitation in self.lineup:
            producer = self.producer_of(invitation.product_id, invitation.producer_id)
            if producer is None:
                continue
            tally = self.tallies[producer]
            tally.invited.add(invitation.market_day_id)
            if invitation.status == "declined":
                tally.declined.add(invitation.market_day_id)
                tally.reasons[invitation.reason or "other"] += 1
        for record in season.attendance:
            if record.market_day_id in self.days:
                for producer in record.producer_ids:
                    self.tallies[producer].attended.add(record.market_day_id)
                for product in record.product_ids:
                    self.product_days[(product, record.market_day_id)] += 0
        for sale in season.sales:
            if sale.market_day_id not in self.days:
                continue
            self.product_days[(sale.product_id, sale.market_day_id)] += sale.amount
            producer = self.producer_of(sale.product_id, None)
            if producer is not None:
                tally = self.tallies[producer]
                tally.attended.add(sale.market_day_id)
                tally.sales[sale.market_day_id] += sale.amount
        self.mentee_group = {
            mentee: group.name
            for group in sorted(season.groups, key=lambda g: (g.name, g.id), reverse=True)
            for mentee in group.mentee_ids
        }

    def producer_name(self, producer_id: UUID | None) -> str | None:
        producer = self.season.producers.get(producer_id) if producer_id else None
        return producer.name if producer else None

    def producer_of(self, product_id: UUID, fallback: UUID | None) -> UUID | None:
        product = self.products.get(product_id)
        return product.producer_id if product is not None and product.producer_id else fallback

    def experienced(self, producer_id: UUID) -> bool | None:
        producer = self.season.producers.get(producer_id)
        return producer.experienced if producer is not None else None

    def days_in(self, month: date) -> list[UUID]:
        return [day for day, m in self.month.items() if m == month]

    def per_day_values(self, producers: Iterable[UUID], month: date | None = None) -> list[Decimal]:
        days = None if month is None else self.days_in(month)
        values = (self.tallies[p].per_day(days) for p in producers)
        return [v for v in values if v is not None]


def _record(facts: _Facts, producer_id: UUID) -> ProducerRecord:
    tally = facts.tallies[producer_id]
    producer = facts.season.producers.get(producer_id)
    months = [
        MonthFigure(month=month, sales_per_market_day=value)
        for month in facts.months
        if (value := tally.per_day(facts.days_in(month))) is not None
    ]
    return ProducerRecord(
        producer_id=producer_id,
        name=producer.name if producer else str(producer_id),
        experienced=producer.experienced if producer else True,
        mentoring_group=facts.mentee_group.get(producer_id),
        invited=len(tally.invited),
        attended=len(tally.attended),
        declined=len(tally.declined),
        decline_reasons=dict(sorted(tally.reasons.items())),
        sales_thb=sum(tally.sales.values(), Decimal(0)),
        sales_per_market_day=tally.per_day(),
        months=months,
        trend=months[-1].sales_per_market_day - months[0].sales_per_market_day if len(months) > 1 else None,
    )


def _new_and_experienced(facts: _Facts) -> tuple[list[UUID], list[UUID]]:
    new: list[UUID] = []
    experienced: list[UUID] = []
    for p in sorted(p for p in facts.tallies if p in facts.season.producers):
        (experienced if facts.season.producers[p].experienced else new).append(p)
    return new, experienced


def low_sellers(facts: _Facts) -> set[UUID]:
    if not facts.months:
        return set()
    first = set(facts.days_in(facts.months[0]))
    days: defaultdict[UUID, list[Decimal]] = defaultdict(list)
    for (product, day), amount in facts.product_days.items():
        if day in first:
            days[product].append(amount)
    per_day = {product: sum(amounts, Decimal(0)) / len(amounts) for product, amounts in days.items()}
    if not per_day:
        return set()
    half_median = Decimal(median(per_day.values())) / 2
    return {product for product, value in per_day.items() if value == 0 or value < half_median}


CRITERIA = ("quadrant_d", "stars_1_3", "nawatwithi", "low_seller", "intended")


def _meets(product: Product | None, low: bool) -> dict[str, bool]:
    if product is None:
        return dict.fromkeys(CRITERIA, False)
    return {
        "quadrant_d": product.quadrant == "D",
        "stars_1_3": product.star_level <= 3,
        "nawatwithi": product.nawatwithi,
        "low_seller": low,
        "intended": product.intended,
    }


def _programme(facts: _Facts) -> ProgrammeQuestion:
    low = low_sellers(facts)
    counts: Counter[str] = Counter()
    intended_producers: set[UUID] = set()
    for invitation in facts.lineup:
        product = facts.products.get(invitation.product_id)
        met = _meets(product, invitation.product_id in low)
        counts.update(criterion for criterion, yes in met.items() if yes)
        producer = facts.producer_of(invitation.product_id, invitation.producer_id)
        if met["intended"] and producer is not None:
            intended_producers.add(producer)
    by_month = [
        MonthEstimate(month=month, estimate=estimate(facts.per_day_values(sorted(intended_producers), month)))
        for month in facts.months
    ]
    first_to_last = (
        compare(
            facts.per_day_values(sorted(intended_producers), facts.months[-1]),
            facts.per_day_values(sorted(intended_producers), facts.months[0]),
        )
        if len(facts.months) > 1
        else None
    )
    return ProgrammeQuestion(
        lineup=len(facts.lineup),
        shares=[CriterionShare(criterion=c, share=share(counts[c], len(facts.lineup))) for c in CRITERIA],
        intended_producers_by_month=by_month,
        first_to_last_month=first_to_last,
    )


MENTORING_MEASURES = ("sales_per_market_day", "attendance_percent", "decline_percent")


def _mentoring_values(facts: _Facts, new: list[UUID]) -> dict[tuple[str, bool], list[Decimal]]:
    """(measure, in a mentoring group) -> one value per new producer."""
    values: dict[tuple[str, bool], list[Decimal]] = {}
    for mentored in (True, False):
        producers = [p for p in new if (p in facts.mentee_group) is mentored]
        invited = [facts.tallies[p] for p in producers if facts.tallies[p].invited]
        values[("sales_per_market_day", mentored)] = facts.per_day_values(producers)
        values[("attendance_percent", mentored)] = [
            _rate(len(t.invited & t.attended), len(t.invited)) for t in invited
        ]
        values[("decline_percent", mentored)] = [_rate(len(t.declined), len(t.invited)) for t in invited]
    return values


def _mentoring_of(
    values: Mapping[tuple[str, bool], list[Decimal]], groups: Sequence[MentoringGroup]
) -> Mentoring:
    return Mentoring(
        groups=[
            GroupSize(name=g.name, mentors=len(g.mentor_ids), mentees=len(g.mentee_ids))
            for g in sorted(groups, key=lambda g: (g.name, g.id))
        ],
        **{m: compare(values[(m, True)], values[(m, False)]) for m in MENTORING_MEASURES},
    )


def _venue_values(facts: _Facts) -> dict[tuple[str, str], list[Decimal]]:
    """(category, venue kind) -> a product's sales on a market day it was at, one value each."""
    values: defaultdict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for (product_id, day), amount in sorted(facts.product_days.items()):
        product = facts.products.get(product_id)
        if product is not None:
            values[(product.category, facts.days[day].venue_kind)].append(amount)
    return values


def _venues_of(values: Mapping[tuple[str, str], list[Decimal]]) -> list[VenueComparison]:
    return [
        VenueComparison(
            category=category,
            pracharat_vs_tourist=compare(
                values.get((category, VenueKind.PRACHARAT_MARKET), []),
                values.get((category, VenueKind.TOURIST_SPOT), []),
            ),
        )
        for category in sorted({category for category, _ in values})
    ]


def _fairness(facts: _Facts) -> Fairness:
    """How the lineup spread over the province's intended products (each counted once per invitation)."""
    invitations = Counter(i.product_id for i in facts.lineup)
    counts = {
        p.id: invitations[p.id]
        for p in facts.products.values()
        if p.intended and p.province_code == facts.season.province_code
    }
    page = facts.season.never_invited
    if page is None:
        never = sorted(
            (facts.products[p] for p, n in counts.items() if n == 0 and p in facts.products),
            key=lambda p: (p.category, p.name, p.id),
        )
        page = NeverInvitedPage(
            eligible=len(counts),
            count=len(never),
            offset=0,
            products=[
                NeverInvited(
                    product_id=p.id,
                    name=p.name,
                    producer_id=p.producer_id,
                    producer_name=facts.producer_name(p.producer_id),
                    category=p.category,
                    star_level=p.star_level,
                    quadrant=p.quadrant,
                    nawatwithi=p.nawatwithi,
                )
                for p in never
            ],
        )
    distribution = Counter(n for n in counts.values() if n)
    if page.count:
        distribution[0] = page.count
    return Fairness(
        eligible=page.eligible,
        invited=share(page.eligible - page.count, page.eligible),
        distribution=dict(sorted(distribution.items())),
        never_invited=list(page.products),
        never_invited_count=page.count,
        never_invited_offset=page.offset,
    )


def province_outcomes(season: Season) -> ProvinceOutcomes:
    facts = _Facts(season)
    new, experienced = _new_and_experienced(facts)
    days = sorted(md.day for md in season.market_days)
    return ProvinceOutcomes(
        province_code=season.province_code,
        first_day=days[0] if days else None,
        last_day=days[-1] if days else None,
        market_days=len(days),
        months=facts.months,
        producers=sorted(
            (_record(facts, p) for p in facts.tallies), key=lambda r: (r.name, str(r.producer_id))
        ),
        new_vs_experienced=compare(facts.per_day_values(new), facts.per_day_values(experienced)),
        new_vs_experienced_by_month=[
            MonthComparison(
                month=month,
                new_vs_experienced=compare(
                    facts.per_day_values(new, month), facts.per_day_values(experienced, month)
                ),
            )
            for month in facts.months
        ],
        programme=_programme(facts),
        mentoring=_mentoring_of(_mentoring_values(facts, new), season.groups),
        venues=_venues_of(_venue_values(facts)),
        fairness=_fairness(facts),
    )


def producer_record(season: Season, producer_id: UUID) -> ProducerRecord:
    return _record(_Facts(season), producer_id)


# --- the department's view: every province in a row, and the country's pooled comparisons


class ProvinceLine(Figure):
    province_code: str
    market_days: int
    producers: int
    intended: Share  # of the lineup
    low_seller: Share
    new_vs_experienced: Comparison
    mentored_vs_not: Comparison  # new producers' sales per market day attended
    eligible: int
    never_invited: int


class NationalOutcomes(Figure):
    first_day: date
    last_day: date
    provinces: list[ProvinceLine]
    intended: Share
    low_seller: Share
    new_vs_experienced: Comparison
    mentoring: Mentoring
    venues: list[VenueComparison]
    note: str = OBSERVATIONAL_NOTE


class ProducerSeason(NamedTuple):
    """One producer's season in a province, as _Tally and _rate count it (read totalled)."""

    experienced: bool | None  # None: not among the province's producers
    mentored: bool  # a mentee of one of the province's mentoring groups
    sales_per_market_day: Decimal | None  # None: never attended
    attendance_percent: Decimal | None  # of the days invited, those attended; None: never invited
    decline_percent: Decimal | None


@dataclass(frozen=True)
class ProvinceSeason:
    """A province's season as the national view needs it, read totalled from the read models."""

    province_code: str
    market_days: int
    producers: Sequence[ProducerSeason]
    lineup: int
    intended: int  # lineup invitations of intended products
    first_month: Mapping[UUID, tuple[Decimal, int, int]]  # product -> (sales, days, lineup invitations)
    eligible: int
    never_invited: int


def _province_mentoring(producers: Sequence[ProducerSeason]) -> dict[tuple[str, bool], list[Decimal]]:
    """_mentoring_values, from the producers' season figures."""
    values: dict[tuple[str, bool], list[Decimal]] = {}
    new = [p for p in producers if p.experienced is False]
    for mentored in (True, False):
        group = [p for p in new if p.mentored is mentored]
        for measure in MENTORING_MEASURES:
            values[(measure, mentored)] = [v for p in group if (v := getattr(p, measure)) is not None]
    return values


def _low_seller_lineup(first_month: Mapping[UUID, tuple[Decimal, int, int]]) -> int:
    """Lineup invitations of low sellers (low_sellers: against half the median of the first month)."""
    per_day = {product: sales / days for product, (sales, days, _) in first_month.items()}
    if not per_day:
        return 0
    half_median = Decimal(median(per_day.values())) / 2
    return sum(
        first_month[product][2] for product, value in per_day.items() if value == 0 or value < half_median
    )


def national_outcomes(
    first_day: date,
    last_day: date,
    provinces: Sequence[ProvinceSeason],
    venues: Mapping[tuple[str, str], list[Decimal]],
    groups: Sequence[MentoringGroup],
) -> NationalOutcomes:
    """`venues`: (category, venue kind) -> a product's sales on a market day it was at, the country's."""
    lines: list[ProvinceLine] = []
    shares: Counter[str] = Counter()
    people: defaultdict[str, list[Decimal]] = defaultdict(list)
    mentoring: defaultdict[tuple[str, bool], list[Decimal]] = defaultdict(list)
    for season in sorted(provinces, key=lambda s: s.province_code):
        low = _low_seller_lineup(season.first_month)
        shares.update(intended=season.intended, low_seller=low, lineup=season.lineup)
        new_values: list[Decimal] = []
        experienced_values: list[Decimal] = []
        for p in season.producers:
            if p.experienced is not None and p.sales_per_market_day is not None:
                (experienced_values if p.experienced else new_values).append(p.sales_per_market_day)
        people["new"] += new_values
        people["experienced"] += experienced_values
        province_mentoring = _province_mentoring(season.producers)
        for measure, found in province_mentoring.items():
            mentoring[measure] += found
        lines.append(
            ProvinceLine(
                province_code=season.province_code,
                market_days=season.market_days,
                producers=len(season.producers),
                intended=share(season.intended, season.lineup),
                low_seller=share(low, season.lineup),
                new_vs_experienced=compare(new_values, experienced_values, resample=False),
                mentored_vs_not=compare(
                    province_mentoring[("sales_per_market_day", True)],
                    province_mentoring[("sales_per_market_day", False)],
                    resample=False,
                ),
                eligible=season.eligible,
                never_invited=season.never_invited,
            )
        )
    return NationalOutcomes(
        first_day=first_day,
        last_day=last_day,
        provinces=lines,
        intended=share(shares["intended"], shares["lineup"]),
        low_seller=share(shares["low_seller"], shares["lineup"]),
        new_vs_experienced=compare(people["new"], people["experienced"]),
        mentoring=_mentoring_of(mentoring, groups),
        venues=_venues_of(venues),
    )
