"""LOAD_ATTR / STORE_ATTR layouts an inventory model meets: __slots__ records with methods and
class constants, an audited class overriding __getattribute__, int and Exception subclasses
(lazy instance dicts), class-level attributes and methods, module attributes."""
import math
import os.path


class Vec:
    """Slotted: no instance dict (LOAD_ATTR_METHOD_NO_DICT, NONDESCRIPTOR_NO_DICT, SLOT)."""

    __slots__ = ("x", "y")
    DIMENSIONS = 2

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def dot(self, other):
        return self.x * other.x + self.y * other.y

    def scaled(self, k):
        return Vec(self.x * k, self.y * k)


class Audited:
    """Overrides __getattribute__ in Python (LOAD_ATTR_GETATTRIBUTE_OVERRIDDEN)."""

    def __init__(self, owner, qty):
        self.owner = owner
        self.qty = qty

    def __getattribute__(self, name):
        return object.__getattribute__(self, name)

    def remaining(self):
        return self.qty - 1


class Cents(int):
    """An int subclass: managed dict, no inline values, dict created lazily."""

    def dollars(self):
        return self // 100


class StockError(Exception):
    """Exception subclass: the dict lives at tp_dictoffset and is created lazily."""

    def severity(self):
        return len(self.args)


class Shortage(Exception):
    """Exception subclass with its own attributes (a real, not managed, instance dict)."""

    LEVEL = 2

    def __init__(self, sku):
        super().__init__(sku)
        self.sku = sku

    def urgency(self):
        return self.LEVEL * self.sku


class Item:
    TAX = 7
    count = 0

    def __init__(self, sku, price, qty):
        self.sku = sku
        self.price = price
        self.qty = qty
        self.tags = None
        self.location = "A1"

    def total(self):
        return self.price * self.qty

    def on_change(self, qty):
        return qty

    @property
    def taxed(self):
        return self.total() + self.TAX

    @staticmethod
    def parse(text):
        return len(text)

    @classmethod
    def kind(cls):
        return cls.TAX


class Perishable(Item):
    shelf_days = 5

    def total(self):
        return Item.total(self) - self.shelf_days


def setup(args):
    n = int(args[0]) if args else 20000
    vecs = [Vec(i, i + 1) for i in range(32)]
    audits = [Audited("ops", i) for i in range(32)]
    cents = [Cents(100 * i + 7) for i in range(32)]
    errors = [StockError("low", i) for i in range(32)]
    items = [Item(i, i % 13, i % 5) if i % 2 else Perishable(i, i % 11, 3) for i in range(32)]
    shortages = [Shortage(i) for i in range(32)]
    return n, vecs, audits, cents, errors, items, shortages


def workload(ctx):
    n, vecs, audits, cents, errors, items, shortages = ctx
    total = 0
    for i in range(n):
        j = i & 31
        v = vecs[j]
        total += v.dot(vecs[j ^ 1]) + v.DIMENSIONS * v.DIMENSIONS
        v.x = v.y
        a = audits[j]
        total += a.qty + len(a.owner)
        c = cents[j]
        total += c.dollars()
        e = errors[j]
        total += e.severity()
        it = items[j]
        total += it.taxed + it.TAX + it.kind() + Item.count
        it.qty = j & 7
        total += it.__class__ is Item
        it.on_change = abs                      # an instance attribute shadowing a method
        short = shortages[j]
        total += short.sku + short.urgency() + short.LEVEL + a.remaining()
        short.seen = i
        total += Item.parse(it.location) + math.floor(math.e) + len(os.path.sep)
    return total
