"""FOR_ITER (list, tuple, range, generator), UNPACK_SEQUENCE (two-tuple, tuple, list), CONTAINS_OP (dict, set, other)."""


def gen(n):
    for i in range(n):
        yield i


def setup(args):
    n = int(args[0]) if args else 300
    return n


def workload(n):
    lst = list(range(100))
    tup = tuple(range(100))
    pairs = [(i, -i) for i in range(100)]
    triples = [(i, i, i) for i in range(50)]
    lists = [[i, i + 1] for i in range(50)]
    members = set(range(0, 100, 3))
    table = {i: None for i in range(0, 100, 5)}
    frozen = frozenset(range(0, 100, 7))
    text = "the quick brown fox"
    total = 0
    for _ in range(n):
        for x in lst:
            total += x
            if x in members:
                total += 1
            if x in table:
                total += 2
            if x in frozen:
                total -= 1
        for x in tup:
            total ^= x
        for x in range(100):
            if x not in members:
                total += 1
        for x in gen(50):
            total += x
        for a, b in pairs:
            total += a - b
        for a, b, c in triples:
            total += a + b + c
        for a, b in lists:
            total += b - a
        if "quick" in text:
            total += 1
    return total
