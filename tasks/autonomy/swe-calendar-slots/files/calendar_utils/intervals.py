"""Interval helpers for the meeting scheduler. Times of day are minutes since midnight."""
import re

_HHMM = re.compile(r"^([0-9]{2}):([0-9]{2})$")


def parse_hhmm(s):
    """'HH:MM' -> minutes since midnight. Hours 00-23, minutes 00-59; '24:00' (= 1440) is allowed
    as the end of the day. Anything else raises ValueError."""
    m = _HHMM.match(s) if isinstance(s, str) else None
    if not m:
        raise ValueError(f"bad time {s!r}")
    h, mi = int(m.group(1)), int(m.group(2))
    if (h, mi) == (24, 0):
        return 1440
    if h > 23 or mi > 59:
        raise ValueError(f"bad time {s!r}")
    return h * 60 + mi


def format_hhmm(minutes):
    """minutes since midnight (0..1440) -> zero-padded 'HH:MM'."""
    if not 0 <= minutes <= 1440:
        raise ValueError(f"bad minute count {minutes!r}")
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def merge_intervals(intervals):
    """Merge integer intervals.

    `intervals` is a list of [start, end] pairs (lists or tuples of ints), in any order.
    Returns a new list of [start, end] lists, sorted by start, pairwise disjoint, covering the
    same points as the input, where:
      * intervals that overlap OR touch (one's end == the other's start) are merged into one;
      * empty intervals (start == end) are dropped and never join or bridge other intervals
        (note: [1, 3], [3, 3], [3, 5] still merges into [1, 5] because [1, 3] and [3, 5] touch);
      * an interval with start > end raises ValueError.
    The input must not be modified. An empty input returns [].
    """
    raise NotImplementedError


def free_slots(busy, day_start, day_end, min_minutes=0):
    """Free time of one day.

    `busy` is a list of (start, end) pairs of 'HH:MM' strings, in any order, possibly overlapping,
    possibly empty (start == end), possibly reaching outside [day_start, day_end].
    `day_start` and `day_end` are 'HH:MM' strings ('24:00' allowed for the end).
    Returns the maximal gaps inside [day_start, day_end] that no busy interval covers, in order,
    as [start, end] lists of 'HH:MM' strings, keeping only gaps whose length in minutes is
    > 0 and >= min_minutes.
    Raises ValueError for a malformed time, for a busy pair whose start is after its end, for
    day_start after day_end, and for a negative min_minutes.
    """
    raise NotImplementedError
