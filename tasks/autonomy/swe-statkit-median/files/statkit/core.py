"""Descriptive statistics for lists of numbers."""
import math
from collections import Counter


def _require(xs):
    xs = list(xs)
    if not xs:
        raise ValueError("statkit: empty input")
    return xs


def mean(xs):
    """Arithmetic mean."""
    xs = _require(xs)
    return sum(xs) / len(xs)


def median(xs):
    """Middle value; for an even count, the mean of the two middle values."""
    xs = _require(xs)
    n = len(xs)
    mid = n // 2
    if n % 2 == 1:
        return xs[mid]
    return (xs[mid] + xs[mid + 1]) / 2


def mode(xs):
    """Most common value; ties go to the smallest such value."""
    xs = _require(xs)
    counts = Counter(xs)
    best = max(counts.values())
    return min(v for v, c in counts.items() if c == best)


def variance(xs, sample=True):
    """Variance; sample (n-1) by default, population (n) with sample=False."""
    xs = _require(xs)
    n = len(xs)
    if sample and n < 2:
        raise ValueError("statkit: sample variance needs at least two values")
    m = mean(xs)
    ss = sum((x - m) ** 2 for x in xs)
    return ss / (n - 1 if sample else n)


def stdev(xs, sample=True):
    """Standard deviation (square root of variance)."""
    return math.sqrt(variance(xs, sample))


def value_range(xs):
    """(min, max) of the values."""
    xs = _require(xs)
    return (min(xs), max(xs))
