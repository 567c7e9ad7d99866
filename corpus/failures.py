"""The cases the specializer declines, in a small ledger/report program: mixed int/float and
complex arithmetic, str ordering and formatting, big ints, iteration over dicts, sets, strings,
enumerate and zip, membership in lists/tuples/strings, negative and slice subscripts,
bytearrays, dict subclasses, truth of dicts/tuples/floats/sets, attribute hooks
(__getattr__, __setattr__, properties with C getters and setters), stores on classes and modules,
str.format, generators delegating to iterators. Each site runs long enough for the
specializer's backoff to retry it dozens of times, so every failure kind shows in the stats."""
import array
import operator
import types


class Ledger(dict):
    """A dict subclass: subscripts do not specialize."""


class Lazy:
    """Attributes computed by __getattr__."""

    def __getattr__(self, name):
        return len(name)


class Tracked:
    """Attribute stores go through __setattr__."""

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)


class Account:
    count = 0
    balance = property(operator.attrgetter("_balance"))

    def __init__(self, balance):
        self._balance = balance
        self._limit = 10

    @property
    def limit(self):
        return self._limit

    @limit.setter
    def limit(self, value):
        self._limit = value

    @property
    def rounding(self):
        return round


class Counters:
    """Class-level counters, rebound on the class itself."""

    hits = 0


class Grid:
    """A container with a Python __setitem__."""

    def __init__(self):
        self.cells = [0] * 8

    def __setitem__(self, i, v):
        self.cells[i] = v


class Sized:
    def __len__(self):
        return 3


def lines(rows):
    yield from rows


def setup(args):
    n = int(args[0]) if args else 20000
    return n


def workload(n):
    settings = types.ModuleType("settings")
    ledger = Ledger(a=1, b=2)
    plain = {"x": 1, "y": 2}
    lazy = Lazy()
    tracked = Tracked()
    acct = Account(5)
    sized = Sized()
    big = 1 << 80
    codes = [3, 5, 7]
    pair = (4, 8)
    buf = bytearray(8)
    samples = array.array("d", [0.0] * 8)
    view = memoryview(bytearray(8))
    grid = Grid()
    recent = [0] * 8
    members = {1, 2, 3}
    table = list(range(10))
    window = slice(1, 4)
    z = complex(1, 2)
    total = 0
    for i in range(n):
        f = i * 0.5
        total += i + f > 3                        # BINARY_OP int + float, COMPARE_OP float/int mix
        z = z * 0.5 + complex(0, 1)               # complex arithmetic
        total += z.real > 0                       # member of a C type (not an object slot)
        total += big > i                          # big int compare
        total += "abc" < "abd"                    # str ordering
        total += (i % 7) in codes                 # membership in a list
        total += (i & 7) in pair                  # ... in a tuple
        total += "b" in "abc"                     # ... in a str
        total += table[-1] + len(table[window])   # negative and slice-object subscripts
        buf[i & 7] = i & 255                      # bytearray store
        samples[i & 7] = f                        # array.array store
        view[i & 7] = i & 127                     # memoryview store
        grid[i & 7] = i                           # Python __setitem__
        recent[-1] = i                            # negative index store
        recent[window] = codes                    # slice-object store
        ledger["a"] = ledger["b"] + 1             # dict subclass
        total += len("{}-{}".format(i, i))        # str.format (varargs method)
        total += lazy.width                       # __getattr__
        tracked.seen = i                          # __setattr__
        total += acct.balance + acct.limit        # property with a C getter; Python property
        acct.limit = i & 15                       # property setter
        total += acct.rounding(f)                 # calling what a property returns
        Counters.hits = i                         # store on a class
        settings.last = i                         # store on a module
        if plain and pair and f and members and sized:
            total += 1
        for k in plain:
            total += len(k)
        for k, v in plain.items():
            total += v
        for ch in "ab":
            total += ord(ch)
        for j, c in enumerate(pair):
            total += j * c
        for a, b in zip(pair, pair):
            total += a - b
        for row in lines(pair):
            total += row
        x, y = "xy"
        total += len(x + y)
    return total
