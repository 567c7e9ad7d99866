"""Subclasses of builtin types at hot sites, in a small stock-keeping program: Counter,
defaultdict and OrderedDict tallies, namedtuple records, IntEnum column indexes and IntFlag
options, bools summed as counts, a float subclass for prices, a str subclass for SKUs, a
list subclass for shelves, a frozenset subclass for tags, and an abstract base class whose
methods call super(). The specializer keeps these sites generic (its forms guard on the
exact builtin type, or on the plain `type` metaclass), so each one runs many times with no
specialized form: a change that lets a form be installed for a subclass (it would then miss
on every execution) or that declines a metaclass it used to accept shows here, within one
benchmark, as misses or failures of the family."""
import abc
import collections
import enum


class Col(enum.IntEnum):
    SKU = 0
    QTY = 1
    PRICE = 2


class Opt(enum.IntFlag):
    NONE = 0
    TAXED = 1
    FRAGILE = 2


class Price(float):
    """A price: arithmetic and comparisons on a float subclass."""


class Qty(int):
    """A quantity: arithmetic and comparisons on an int subclass."""


class Sku(str):
    """A stock-keeping unit code."""


class Shelf(list):
    """A shelf of item counts."""


class Tags(frozenset):
    """Tags of an item."""


class TagSet(set):
    """Tags being edited."""


Item = collections.namedtuple("Item", "sku qty price")


class Store(abc.ABC):
    @abc.abstractmethod
    def value(self, item):
        ...

    def label(self, item):
        return item.sku


class Warehouse(Store):
    def value(self, item):
        return item.qty

    def label(self, item):
        return super().label(item) + "!"


class Outlet(Warehouse):
    def value(self, item):
        return super().value(item) * 2


def setup(args):
    n = int(args[0]) if args else 20000
    return n


def workload(n):
    counts = collections.Counter(a=1, b=2)
    groups = collections.defaultdict(int, a=1)
    order = collections.OrderedDict(a=1)
    item = Item("a", 3, 2.5)
    row = ["a", 3, 2.5]
    shelf = Shelf([1, 2, 3])
    pair = Shelf([4, 5])
    tags = Tags({"a", "b"})
    editing = TagSet({"a"})
    sku = Sku("ab-12")
    other = Sku("ab-13")
    unit = Price(2.5)
    step = Qty(3)
    limit = Qty(4)
    cap = Price(9.5)
    opts = Opt.TAXED
    outlet = Outlet()
    total = 0
    for i in range(n):
        # CONTAINS_OP on dict and set subclasses
        total += ("a" in counts) + ("a" in groups) + ("a" in order)
        total += ("a" in tags) + ("b" in editing)
        # BINARY_SUBSCR: dict subclasses, a tuple subclass, a list subclass, a str subclass,
        # and IntEnum indexes into plain lists and tuples
        total += counts["b"] + groups["a"] + order["a"] + item[1] + shelf[0]
        total += len(sku[0]) + row[Col.QTY] + item[Col.QTY]
        # STORE_SUBSCR: dict and list subclasses, an IntEnum index into a list
        counts["c"] = i
        groups["b"] = i
        shelf[1] = i
        row[Col.QTY] = 3
        # UNPACK_SEQUENCE: a namedtuple and a list subclass
        s, q, p = item
        first, second = pair
        total += q + first
        # BINARY_OP: bools summed as counts, int, float and str subclasses
        hits = (i > 5) + (q > 1)
        more = step + step
        big = step * step
        less = step - step
        cost = unit * unit + unit - unit
        code = sku + sku
        total += hits + more + big + less + len(code)
        # COMPARE_OP on int, float and str subclasses, an IntEnum
        if step < limit and unit <= cap and sku != other and Col.QTY == Col.QTY:
            total += 1
        # TO_BOOL on an IntFlag, an int subclass, a str subclass, a list subclass
        if opts and step and sku and shelf:
            total += 1
        # LOAD_SUPER_ATTR under an abstract base class (metaclass ABCMeta)
        total += outlet.value(item) + len(outlet.label(item))
    return total
