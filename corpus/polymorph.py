"""Sites whose operand types change while the program runs, in a small column-statistics
tool: one merge step sees two record shapes in turn (ints and floats, lists and tuples,
sets and dicts, two classes, a Python function and a builtin), and one summary function is
applied to columns of ints, floats, strs and tuples in phases. A specialized form misses
when the type changes; the specializer waits (its cooldown) before specializing again, and
after a failed attempt it backs off. A change to those counters (specializing again too
soon or too late, backing off too little or too much) moves the misses, the attempts and
the deferred executions of these sites, which dominate their families here. One method
calling `super(Shape, self)` also runs in a second namespace whose `super` is a tracing
wrapper (the same code object, so the same site): its LOAD_SUPER_ATTR specializes and then
misses every other call, the only super() site of the corpus that ever misses, so a changed
cooldown of that family shows here too."""
import types


class Point:
    def __init__(self, x):
        self.x = x
        self.y = x


class Pixel:
    __slots__ = ("x", "y")

    def __init__(self, x):
        self.x = x
        self.y = x


def double(v):
    return v + v


def traced_super(*args):
    """A debugging hook installed in one namespace in place of the builtin super."""
    return super(*args)


class Base:
    def size(self):
        return 1


class Shape(Base):
    def size(self):
        return super(Shape, self).size() + 1   # LOAD_SUPER_ATTR: plain, then traced


def traced_copy(func):
    """The same method in a namespace where `super` is the tracing hook."""
    namespace = dict(func.__globals__, super=traced_super)
    return types.FunctionType(func.__code__, namespace, func.__name__, None, func.__closure__)


SHAPES = [
    (3, 4, [1, 2], {1, 2}, Point(1), double, (5, 6), [7, 8], 1),
    (2.5, 3.5, (1, 2), {1: 2, 2: 3}, Pixel(2), abs, [5, 6], (7, 8), "x"),
]


def merge(records):
    """Two record shapes, one after the other: every site here changes type each time."""
    total = 0
    for a, b, seq, pool, obj, fn, pair, items, flag in records:
        if a < b:                  # COMPARE_OP int, then float
            total += 1
        total += a * b - a         # BINARY_OP int, then float
        total += seq[1]            # BINARY_SUBSCR list, then tuple
        seq2 = items if flag else seq
        if 1 in pool:              # CONTAINS_OP set, then dict
            total += 1
        obj.y = obj.x              # LOAD_ATTR, STORE_ATTR: instance values, then slots
        total += fn(2)             # CALL a Python function, then a builtin
        p, q = pair                # UNPACK_SEQUENCE tuple, then list
        for v in seq2:             # FOR_ITER list, then tuple
            total += v + p - q
        if flag:                   # TO_BOOL int, then str
            total += 1
    return total


def summarize(column, first):
    """One column at a time: each phase runs long enough to respecialize, or to back off."""
    lo = first
    count = 0
    for v in column:
        if v < lo:                 # COMPARE_OP int, float, str: specialized; tuple: declined
            lo = v
        if v:                      # TO_BOOL int, str: specialized; float, tuple: declined
            count += 1
    return lo, count


def setup(args):
    n = int(args[0]) if args else 2000
    records = SHAPES * 200
    columns = [
        [k % 50 for k in range(160)],
        [k * 0.5 for k in range(160)],
        [str(k % 50) for k in range(160)],
        [(k % 50, k) for k in range(160)],
    ]
    measures = (Shape.size, traced_copy(Shape.size))
    return n, records, columns, measures


def workload(ctx):
    n, records, columns, measures = ctx
    shape = Shape()
    total = 0
    for i in range(n):
        for measure in measures:
            total += measure(shape)
        total += int(merge(records)) & 0xFFFF
        column = columns[i & 3]
        lo, count = summarize(column, column[-1])
        total += count
    return total
