"""TO_BOOL (bool, int, list, str, None, generic objects) and COMPARE_OP chains in branching code."""


class Box:
    def __init__(self, v):
        self.v = v


def setup(args):
    n = int(args[0]) if args else 40000
    return n


def workload(n):
    flags = [True, False, True]
    ints = [0, 1, 2, 0]
    lists = [[], [1], [1, 2]]
    strs = ["", "a", "bc"]
    nones = [None, None]
    boxes = [Box(1), Box(2)]
    total = 0
    for i in range(n):
        if flags[i % 3]:
            total += 1
        if ints[i & 3]:
            total += 2
        if lists[i % 3]:
            total += 3
        if strs[i % 3]:
            total += 4
        if nones[i & 1] is None and not nones[i & 1]:
            total += 5
        if boxes[i & 1]:
            total += 6
        if not (i & 7):
            total -= 1
    return total
