"""Honest statistics for the outcomes view: a mean or a share always with its sample size and a 90 %
interval, or no interval where the sample is too small. Pure and deterministic: values are sorted
before resampling and the bootstrap's generator is seeded the same on every call, so the same values
give the same interval whatever the order the events arrived in.

Money stays exact: amounts are resampled as whole satang (int64 sums), and every figure is a Decimal
rounded to two places."""

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
from pydantic import BaseModel, ConfigDict

MIN_SAMPLE = 5  # fewer values than this: "not enough data", no interval
RESAMPLES = 1000
SEED = 2562
BOOTSTRAP_UP_TO = 1000  # larger samples: the normal approximation (the bootstrap's answer, cheaper)
Z90 = Decimal("1.6449")  # two-sided 90 %
LOW, HIGH = int(RESAMPLES * 0.05), int(RESAMPLES * 0.95) - 1  # percentile positions of sorted resamples
CENT = Decimal("0.01")


class Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class Estimate(Figure):
    """A mean over `n` values (baht, or percent for rates) with its 90 % interval."""

    n: int
    mean: Decimal | None
    low: Decimal | None = None
    high: Decimal | None = None
    method: str | None = None  # bootstrap, normal; None: not enough data

    @property
    def enough(self) -> bool:
        return self.low is not None


class Share(Figure):
    """`count` of `n`, as a percentage with its 90 % Wilson interval."""

    count: int
    n: int
    percent: Decimal | None
    low: Decimal | None = None
    high: Decimal | None = None


class Comparison(Figure):
    """Group a against group b: each with its size, and the difference of their means (a - b)."""

    a: Estimate
    b: Estimate
    difference: Estimate


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _satang(values: Sequence[Decimal]) -> np.ndarray:
    return np.array(sorted(int(cents(v) * 100) for v in values), dtype=np.int64)


def _resampled_sums(units: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sums: np.ndarray = units[rng.integers(0, len(units), size=(RESAMPLES, len(units)))].sum(axis=1)
    return sums


def _baht(satang: int, divisor: int) -> Decimal:
    return cents(Decimal(satang) / divisor / 100)


def _mean_and_error(values: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    """The mean and its standard error. The variance from the sums of the values and of their squares
    (exact: the values are amounts and rates to two places; a national sample has tens of thousands),
    with the precision to spare that the subtraction needs."""
    n = len(values)
    total = sum(values, Decimal(0))
    with localcontext(prec=60):
        squares = sum((v * v for v in values), Decimal(0))
        variance = max(squares - total * total / n, Decimal(0)) / (n - 1)
    return total / n, (variance / n).sqrt()


def _bootstrap(values: Sequence[Decimal], rng: np.random.Generator) -> tuple[Estimate, np.ndarray]:
    """The estimate of a sample of at least MIN_SAMPLE and at most BOOTSTRAP_UP_TO values, and its
    resampled sums (unsorted, in the generator's order, for a difference)."""
    n = len(values)
    sums = _resampled_sums(_satang(values), rng)
    ordered = np.sort(sums)
    mean = cents(sum(values, Decimal(0)) / n)
    low, high = _baht(int(ordered[LOW]), n), _baht(int(ordered[HIGH]), n)
    return Estimate(n=n, mean=mean, low=low, high=high, method="bootstrap"), sums


def _normal(n: int, mean: Decimal, error: Decimal) -> Estimate:
    return Estimate(
        n=n,
        mean=cents(mean),
        low=cents(mean - Z90 * error),
        high=cents(mean + Z90 * error),
        method="normal",
    )


def estimate(values: Sequence[Decimal]) -> Estimate:
    n = len(values)
    if not n:
        return Estimate(n=0, mean=None)
    if n < MIN_SAMPLE:
        return Estimate(n=n, mean=cents(sum(values, Decimal(0)) / n))
    if n > BOOTSTRAP_UP_TO:
        return _normal(n, *_mean_and_error(values))
    return _bootstrap(values, np.random.default_rng(SEED))[0]


def compare(a_values: Sequence[Decimal], b_values: Sequence[Decimal], resample: bool = True) -> Comparison:
    """Two independent groups' means and their difference's interval (each group resampled on its own;
    `resample=False`: the normal approximation, for the national table's 77 rows)."""
    na, nb = len(a_values), len(b_values)
    small = min(na, nb) < MIN_SAMPLE
    if small or not resample or na > BOOTSTRAP_UP_TO or nb > BOOTSTRAP_UP_TO:
        if small:
            a, b = estimate(a_values), estimate(b_values)
            if a.mean is None or b.mean is None:
                return Comparison(a=a, b=b, difference=Estimate(n=na + nb, mean=None))
            return Comparison(a=a, b=b, difference=Estimate(n=na + nb, mean=a.mean - b.mean))
        (mean_a, error_a), (mean_b, error_b) = _mean_and_error(a_values), _mean_and_error(b_values)
        a, b = _normal(na, mean_a, error_a), _normal(nb, mean_b, error_b)
        difference = cents(mean_a) - cents(mean_b)  # a.mean - b.mean
        error = (error_a**2 + error_b**2).sqrt()
        return Comparison(
            a=a,
            b=b,
            difference=Estimate(
                n=na + nb,
                mean=difference,
                low=cents(difference - Z90 * error),
                high=cents(difference + Z90 * error),
                method="normal",
            ),
        )
    rng = np.random.default_rng(SEED)
    (a, sums_a), (b, sums_b) = _bootstrap(a_values, rng), _bootstrap(b_values, rng)
    assert a.mean is not None and b.mean is not None  # samples of at least MIN_SAMPLE
    scaled = np.sort(sums_a * nb - sums_b * na)  # (mean a - mean b) * na * nb, in whole satang
    return Comparison(
        a=a,
        b=b,
        difference=Estimate(
            n=na + nb,
            mean=a.mean - b.mean,
            low=_baht(int(scaled[LOW]), na * nb),
            high=_baht(int(scaled[HIGH]), na * nb),
            method="bootstrap",
        ),
    )


def share(count: int, n: int) -> Share:
    if not n:
        return Share(count=count, n=n, percent=None)
    percent = cents(Decimal(100 * count) / n)
    if n < MIN_SAMPLE:
        return Share(count=count, n=n, percent=percent)
    p, z2 = Decimal(count) / n, Z90**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z90 / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).sqrt()
    return Share(
        count=count,
        n=n,
        percent=percent,
        low=cents(max(Decimal(0), centre - half) * 100),
        high=cents(min(Decimal(1), centre + half) * 100),
    )
