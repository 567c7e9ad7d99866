"""CALL and LOAD_GLOBAL: Python functions (exact args, defaults), bound methods, builtins,
method descriptors, class alloc+init, len, isinstance, keyword arguments, closures."""

LIMIT = 1000


def add(a, b):
    return a + b


def with_default(a, b=2):
    return a * b


def kw(a, *, scale=1, shift=0):
    return a * scale + shift


class Counter:
    def __init__(self, start):
        self.value = start

    def bump(self, by):
        self.value += by
        return self.value

    def clamp(self, v, hi=100):
        return v if v < hi else hi


class Pair:
    def __init__(self, a, b):
        self.a = a
        self.b = b


def setup(args):
    n = int(args[0]) if args else 15000
    return n


def workload(n):
    total = 0
    c = Counter(0)
    items = []
    words = ["alpha", "beta", "gamma"]
    for i in range(n):
        total += add(i, 1)
        total += with_default(i)
        total += kw(i, scale=2, shift=1)
        total += c.bump(1)
        bump = c.bump
        total += bump(2)
        items.append(i)
        if len(items) > 32:
            items.clear()
        total += len(items) + len(words)
        if isinstance(i, int):
            total += abs(-i) % LIMIT
        total += max(i, 3) + min(i, 5)
        q, r = divmod(i, 7)
        total += q + r
        bounded = c.clamp
        total += bounded(i) + bounded(i, 10)
        p = Pair(i, -i)
        total += p.a
        s = str(i)
        total += len(s)
        total += len(",".join(words))
        t = type(p)
        total += t is Pair
    return total
