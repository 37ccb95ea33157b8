"""Text and number statistics for the ingestion pipeline.

The implementations below are the reference behaviour: correct, but slow.
"""
from collections import Counter


def char_histogram(s):
    """Characters of s with their counts, most common first, ties in character order."""
    return sorted(Counter(s).items(), key=lambda kv: (-kv[1], kv[0]))


def distinct_substrings(s):
    """Number of distinct non-empty substrings of the string s (0 for "")."""
    seen = set()
    for i in range(len(s)):
        for j in range(i + 1, len(s) + 1):
            seen.add(s[i:j])
    return len(seen)


def longest_repeated(s):
    """The longest substring of s that occurs at least twice (occurrences may overlap).

    If several substrings have that maximal length, the one whose first occurrence starts
    leftmost is returned. Returns "" if no character repeats.
    """
    n = len(s)
    for length in range(n - 1, 0, -1):
        first = {}
        best = None
        for i in range(n - length + 1):
            sub = s[i:i + length]
            if sub in first:
                if best is None or first[sub] < first[best]:
                    best = sub
            else:
                first[sub] = i
        if best is not None:
            return best
    return ""


def rolling_median(xs, k):
    """Medians of the windows xs[i:i+k] for i = 0 .. len(xs)-k, as a list.

    For odd k the median is the middle element itself (so ints stay ints); for even k it is
    the mean of the two middle elements, (a + b) / 2, a float. Returns [] if k > len(xs).
    Raises ValueError if k < 1.
    """
    if k < 1:
        raise ValueError("k must be positive")
    out = []
    for i in range(len(xs) - k + 1):
        w = sorted(xs[i:i + k])
        if k % 2:
            out.append(w[k // 2])
        else:
            out.append((w[k // 2 - 1] + w[k // 2]) / 2)
    return out
