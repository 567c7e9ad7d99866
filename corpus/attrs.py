"""LOAD_ATTR / STORE_ATTR: instance values, __slots__, dict with hint, module, class, property, methods."""
import math
import sys


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm2(self):
        return self.x * self.x + self.y * self.y


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b


class Wide:
    """Instances whose __dict__ was replaced: attributes live in a real dict (LOAD_ATTR_WITH_HINT)."""

    def __init__(self, i):
        # interned keys, as attribute names are: the form's guard compares key identity
        self.__dict__ = {sys.intern(f"f{k}"): i + k for k in range(12)}


class Config:
    scale = 3
    offset = 7

    @property
    def doubled(self):
        return self.scale * 2

    @classmethod
    def make(cls):
        return cls()


def setup(args):
    n = int(args[0]) if args else 20000
    points = [Point(i, i + 1) for i in range(64)]
    slots = [Slotted(i, -i) for i in range(64)]
    wides = [Wide(i) for i in range(64)]
    return n, points, slots, wides, Config()


def workload(ctx):
    n, points, slots, wides, cfg = ctx
    total = 0
    for i in range(n):
        p = points[i & 63]
        total += p.x + p.y + p.norm2()
        p.x = p.x + 1 - 1
        s = slots[i & 63]
        s.a = s.b + i
        total += s.a
        w = wides[i & 63]
        total += w.f3 + w.f11
        w.f5 = i
        total += cfg.doubled + cfg.scale + Config.offset
        total += int(math.pi) + math.floor(1.5)
        if i % 1000 == 0:
            Config.make()
    return total
