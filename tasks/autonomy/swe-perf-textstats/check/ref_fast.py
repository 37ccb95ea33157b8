"""Fast reference implementations (suffix automaton, two heaps) used for the large hidden inputs."""
import heapq


def _automaton(s):
    link, length, trans, firstpos, cnt = [-1], [0], [{}], [-1], [0]
    last = 0
    for i, ch in enumerate(s):
        cur = len(length)
        length.append(length[last] + 1); link.append(-1); trans.append({}); firstpos.append(i); cnt.append(1)
        p = last
        while p != -1 and ch not in trans[p]:
            trans[p][ch] = cur; p = link[p]
        if p == -1:
            link[cur] = 0
        else:
            q = trans[p][ch]
            if length[p] + 1 == length[q]:
                link[cur] = q
            else:
                clone = len(length)
                length.append(length[p] + 1); link.append(link[q]); trans.append(dict(trans[q]))
                firstpos.append(firstpos[q]); cnt.append(0)
                while p != -1 and trans[p].get(ch) == q:
                    trans[p][ch] = clone; p = link[p]
                link[q] = clone; link[cur] = clone
        last = cur
    return link, length, firstpos, cnt


def distinct_substrings(s):
    link, length, _, _ = _automaton(s)
    return sum(length[v] - length[link[v]] for v in range(1, len(length)))


def longest_repeated(s):
    link, length, firstpos, cnt = _automaton(s)
    order = sorted(range(1, len(length)), key=length.__getitem__, reverse=True)
    for v in order:
        if link[v] > 0: cnt[link[v]] += cnt[v]
    best, start = 0, 0
    for v in range(1, len(length)):
        if cnt[v] >= 2:
            st = firstpos[v] - length[v] + 1
            if length[v] > best or length[v] == best and st < start:
                best, start = length[v], st
    return s[start:start + best]


def rolling_median(xs, k):
    if k <= 0: raise ValueError("k must be positive")
    n = len(xs)
    if k > n: return []
    lo, hi = [], []  # max-heap (negated) and min-heap, entries (value, index)
    out = []
    win_lo = 0  # live elements in lo
    # index-based lazy deletion
    in_lo = {}
    def prune(h, sign):
        while h and h[0][1] < i - k + 1:
            heapq.heappop(h)
    size_lo = 0
    for i in range(n):
        x = xs[i]
        if lo and x <= -lo[0][0]:
            heapq.heappush(lo, (-x, i)); in_lo[i] = True; size_lo += 1
        else:
            heapq.heappush(hi, (x, i)); in_lo[i] = False
        j = i - k
        if j >= 0:
            if in_lo.pop(j): size_lo -= 1
        size_hi = min(i + 1, k) - size_lo
        want_lo = (min(i + 1, k) + 1) // 2
        # rebalance
        prune(lo, -1); prune(hi, 1)
        while size_lo > want_lo:
            v, idx = heapq.heappop(lo); heapq.heappush(hi, (-v, idx)); in_lo[idx] = False; size_lo -= 1
            prune(lo, -1)
        while size_lo < want_lo:
            prune(hi, 1)
            v, idx = heapq.heappop(hi); heapq.heappush(lo, (-v, idx)); in_lo[idx] = True; size_lo += 1
        prune(lo, -1); prune(hi, 1)
        if i >= k - 1:
            if k % 2: out.append(-lo[0][0])
            else: out.append((-lo[0][0] + hi[0][0]) / 2)
    return out
