"""BINARY_SUBSCR / STORE_SUBSCR: list, tuple, dict, str, and a class with __getitem__."""


class Grid:
    def __init__(self, n):
        self.cells = list(range(n))

    def __getitem__(self, i):
        return self.cells[i]


def setup(args):
    n = int(args[0]) if args else 30000
    return n


def workload(n):
    lst = list(range(64))
    tup = tuple(range(64))
    d = {i: i * 2 for i in range(64)}
    sd = {"a": 1, "b": 2, "c": 3}
    text = "abcdefghijklmnopqrstuvwxyz" * 3
    grid = Grid(64)
    total = 0
    for i in range(n):
        j = i & 63
        total += lst[j] + tup[j] + d[j] + sd["b"] + grid[j]
        if text[j] == "a":
            total += 1
        lst[j] = j
        d[j] = j * 2
        sd["c"] = i
    return total
