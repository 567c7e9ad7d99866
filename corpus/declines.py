"""The specializer's declined cases, each at many fresh sites: a plugin host that loads the same
small handler functions for many plugins (one code object per plugin, like modules compiled
from the same template), then runs each handler three times. A site is specialized on its
second execution, so every handler copy adds one specialization attempt per site, and the
third execution shows whether a form installed there holds (a form installed where its
guards fail misses there, hundreds of times in all). Each failure kind reaches hundreds of
counts at a tiny cost (one site alone retries only ~60 times in 200,000 runs because of the
specializer's exponential backoff).

Covered here: attribute loads and stores on data descriptors, Python descriptor objects,
class attributes shadowed or called, builtin and Python classmethods, staticmethods,
audited, read-only, foreign and far-away slots, `__class__` stores, split instance dicts,
classes out of type versions, functions whose version was reset, odd module dicts,
`super` shadowed or misused, odd globals and builtins (dict subclasses, non-str keys,
more than 65,535 entries), `__init__` shapes, calls with wrong argument counts, unpacking
of the wrong length (too many and too few values), list stores one past the end, loops over
iterators of other types than list, tuple and range (reversed lists, sets, bytes, map,
callable and sequence iterators, itertools), a property whose getter raises AttributeError
on a class with `__getattr__`, truth of numbers/sets/deques/bytes/memoryviews and negative
indexes.
No case here records the generic kind (SPEC_FAIL_OTHER): those live in `oddities.py`."""
import array
import builtins
import collections
import itertools
import operator
import types


def copies(func, n, namespace=None):
    """n copies of func, each with its own code object (so its own specialization caches)."""
    ns = func.__globals__ if namespace is None else namespace
    return [types.FunctionType(func.__code__.replace(), ns, func.__name__, func.__defaults__,
                               func.__closure__)
            for _ in range(n)]


# --- attributes -----------------------------------------------------------------------


class Field:
    """A Python data descriptor (its class is mutable: MUTABLE_CLASS on load and store)."""

    def __set_name__(self, owner, name):
        self.slot = "_" + name

    def __get__(self, obj, owner=None):
        return getattr(obj, self.slot, 0) if obj is not None else self

    def __set__(self, obj, value):
        obj.__dict__[self.slot] = value


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


class Plugin:
    """A plugin record with every kind of class attribute a real one accumulates."""

    priority = Field()
    VERSION = 3
    formatter = len                       # a builtin stored on the class (not a descriptor)
    x = Vec.__dict__["x"]                 # a slot descriptor of another class
    parse = staticmethod(int)
    key = property(operator.attrgetter("name"))   # a getter written in C

    def __init__(self, name):
        self.name = name
        self.enabled = True

    def run(self):
        return len(self.name)

    @classmethod
    def create(cls, name):
        return cls(name)

    @property
    def title(self):
        return self.name.title()

    @property
    def slug(self):                       # its version is reset in setup()
        return self.name.lower()

    @property
    def render(self):                     # returns a callable: `p.render(x)`
        return str

    @property
    def label(self, prefix=""):           # a getter with an extra (defaulted) parameter
        return prefix + self.name

    hidden = property(None, lambda self, v: None)   # write-only property


class Lazy:
    """__getattr__ plus a property: attribute lookup may call Python code (OVERRIDDEN)."""

    def __getattr__(self, name):
        return 0

    @property
    def size(self):
        return 1

    @property
    def pending(self):                    # not computed yet: __getattr__ answers instead
        raise AttributeError("pending")


class Guarded:
    """__getattribute__ in Python: calling its methods records ATTR_METHOD."""

    def __getattribute__(self, name):
        return object.__getattribute__(self, name)

    def ping(self):
        return 1


class Fault(Exception):
    """An exception with a real (not managed) instance dict."""

    CODE = 4

    def describe(self):
        return self.CODE


class Amount(int):
    """An int subclass: managed dict but no inline values, created on first store."""


class Row(tuple):
    """A tuple subclass with an instance dict at a negative offset."""

    def first(self):
        return self[0]


class Wide:
    """A record with 9,000 slots: the last ones sit beyond a 16-bit offset."""

    __slots__ = tuple(f"f{i}" for i in range(9000))


class Tuned:
    """A settings class modified so often it ran out of type versions (see setup())."""

    level = 1

    def __init__(self):
        self.value = 1


class Registry(dict):
    """A dict subclass with an instance dict."""


def attribute_loads(p, shadowed, lazy, guarded, fault, row, wide, tuned, z, mods):
    mod, getattr_mod, odd_mod, trace = mods
    total = p.priority + p.title.count("a") + len(p.VERSION.__class__.__name__)
    handler = p.run                       # a method loaded, not called
    total += handler() + p.formatter("ab") + p.create("q").VERSION + len(p.render(5))
    total += len(p.label) + len(p.slug) + len(p.key) + p.parse("7") + len({}.fromkeys("ab"))
    try:
        total += p.hidden
    except AttributeError:
        total += 1
    try:
        total += p.x
    except TypeError:
        total += 1
    try:
        total += lazy.pending             # its getter raises, so __getattr__ answers (0)
    except AttributeError:
        total += 1000                     # only if the fallback to __getattr__ was skipped
    total += shadowed.run(-1) + lazy.size + guarded.ping() + fault.describe() + fault.CODE
    total += row.first() + wide.f8999 + tuned.value + int(z.real)
    total += len(Plugin.__name__) + len(Plugin.run.__globals__)
    try:
        total += Plugin.missing
    except AttributeError:
        total += 1
    total += mod.answer + getattr_mod.anything + odd_mod.answer + trace.tb_frame.f_lineno
    return total


def attribute_stores(p, tracked, fault, amount, fresh, wide, func, registry, plain, mod):
    p.priority = 2                        # Python data descriptor
    p.VERSION = 4                         # shadow a class constant
    p.run = abs                           # shadow a method
    p.create = None                       # shadow a classmethod
    p.parse = str                         # shadow a staticmethod
    try:
        p.title = "x"                     # read-only property
    except AttributeError:
        pass
    try:
        p.x = 1                           # slot descriptor of another class
    except TypeError:
        pass
    tracked.seen = 1                      # __setattr__
    mod.counter = 1                       # module attribute
    fault.detail = 1                      # exception instance dict
    amount.note = 1                       # int subclass: its dict is created now
    vars(fresh)
    fresh.extra = 1                       # instance whose __dict__ was materialized
    wide.f8999 = 1                        # slot beyond 16 bits
    func.__qualname__ = "handler"         # getset descriptor of a builtin type
    try:
        func.__globals__ = {}             # read-only member
    except AttributeError:
        pass
    registry.fromkeys = None              # shadow a builtin classmethod
    plain.__class__ = Registry            # switch class
    plain.__class__ = Plain
    return 1


class Plain(dict):
    pass


class Base:
    def greet(self):
        return 1


class Child(Base):
    def greet(self):
        return super().greet() + 1

    def misuse(self):
        try:
            return super(7, self).greet()
        except TypeError:
            return 0


class LoudSuper(builtins.super):
    """A `super` replacement a tracing module installs under the global name `super`."""


# --- calls, subscripts, unpacking, truth -----------------------------------------------


class Slotted:
    __slots__ = ("a",)

    def __init__(self, a):
        self.a = a


class Empty:
    pass


class Flexible:
    def __init__(self, *parts):
        self.parts = parts


class Defaulted:
    def __init__(self, a, b=2):
        self.a = a


class Table:
    def __getitem__(self, key, default=None):
        return key


class Lookup:
    def __getitem__(self, key):
        return key


class Flag:
    def __bool__(self):
        return True


class Grid:
    def __init__(self):
        self.cells = [0] * 4

    def __setitem__(self, i, v):
        self.cells[i] = v


class Cells(Grid):
    def __setitem__(self, *args):
        Grid.__setitem__(self, *args)


class Sized:
    def __len__(self):
        return 1


class Tracked:
    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)


def scale(x, k=2):
    return x * k


def calls(slotted_cls, tuned, greet, bound_builtin, module_code, out, items):
    slotted_cls(1)
    Empty()
    Flexible(1, 2)
    Defaulted(1)
    Tuned()
    try:
        str.upper("a", 1)
    except TypeError:
        pass
    try:
        list.append(out)
    except TypeError:
        pass
    try:
        len(out, out)
    except TypeError:
        pass
    scale(3)
    module_code()
    greet()
    bound_builtin()
    return len(items)


def subscripts(table, lookup, pair, word, items, buf, stores):
    samples, view, grid, cells, ledger, cut = stores
    total = table[1] + lookup[2] + pair[-1] + len(word[-1]) + items[-1]
    buf[-1] = 7                           # negative indexes
    items[-2] = 5
    items[cut] = [1, 2]                   # slice objects
    samples[cut] = samples[cut]
    buf[cut] = b"ab"
    view[cut] = b"ab"
    samples[1] = 2.0                      # int indexes into buffers
    buf[1] = 2
    view[1] = 2
    grid[0] = 1                           # Python __setitem__, simple and not
    cells[0] = 1
    ledger["k"] = 1                       # dict subclass
    try:
        items[len(items)] = 0             # one past the end: the first index out of range
    except IndexError:
        total += 1
    return total


def unpacking(triple, quad):
    try:
        a, b = triple
    except ValueError:
        a = b = 0
    try:
        c, d = quad
    except ValueError:
        c = d = 0
    try:
        a, b, c, d = triple               # too few values (above: too many)
    except ValueError:
        pass
    try:
        a, b, c, d, e = quad
    except ValueError:
        pass
    return a + b + c + d


def truth(flag, sized, queue, tuned, blob, raw, view, mapping, ratio, pair, members):
    total = 0
    if flag:
        total += 1
    if sized:
        total += 1
    if queue:
        total += 1
    if tuned:
        total += 1
    if blob:
        total += 1
    if raw:
        total += 1
    if view:
        total += 1
    if mapping:
        total += 1
    if ratio:
        total += 1
    if pair:
        total += 1
    if members:
        total += 1
    return total


class Pages:
    """Iterable through __getitem__ alone (the old sequence protocol)."""

    def __getitem__(self, i):
        if i < 2:
            return i
        raise IndexError(i)


def loops(items, members, blob, pages):
    """Loops over iterators of the same role as the specialized ones (list, tuple and range
    iterators) but of other types: each must stay declined with its own failure kind."""
    total = 0
    for x in reversed(items):
        total += x
    for x in members:
        total += x
    for x in blob:
        total += x
    for x in map(abs, items):
        total += x
    for x in iter([1, 2, 0].pop, 1):      # a callable iterator
        total += x
    for x in pages:
        total += x
    for x in itertools.repeat(1, 2):
        total += x
    return total


def module_level():
    return 1


def big_namespace(size, last):
    ns = {f"opt_{i}": i for i in range(size)}
    ns[last] = 1
    return ns


threshold = 1


def lookup_globals():
    return threshold + len("x")


class Namespace(dict):
    """A dict subclass used as a namespace."""


def setup(args):
    n = int(args[0]) if args else 300
    for i in range(1100):                  # each change needs a new type version
        Tuned.level = i
        Tuned.level
    mod = types.ModuleType("config")
    mod.answer = 42
    getattr_mod = types.ModuleType("lazyconfig")
    getattr_mod.__getattr__ = lambda name: 1
    odd_mod = types.ModuleType("oddconfig")
    odd_mod.answer = 1
    odd_mod.__dict__[1] = "one"
    scale.__defaults__ = (3,)               # each of these resets the function's version
    Plugin.slug.fget.__defaults__ = None
    Lookup.__getitem__.__defaults__ = None
    try:
        raise Fault("setup")
    except Fault as err:
        trace = err.__traceback__
    module_code = types.FunctionType(compile("len('x')", "config", "eval"), {})
    loud = {"super": LoudSuper, "__builtins__": builtins}
    plain = {"threshold": 1, "__builtins__": builtins}
    odd_globals = [
        Namespace(plain),
        plain | {0: "zero"},
        big_namespace(70000, "threshold") | {"__builtins__": builtins},
        {"threshold": 1, "__builtins__": Namespace(vars(builtins))},
        {"threshold": 1, "__builtins__": vars(builtins) | {0: "zero"}},
        {"threshold": 1, "__builtins__": big_namespace(70000, "len") | vars(builtins)},
    ]
    return {
        "n": n,
        "loads": copies(attribute_loads, n),
        "stores": copies(attribute_stores, n),
        "calls": copies(calls, n),
        "subscripts": copies(subscripts, n),
        "unpacking": copies(unpacking, n),
        "truth": copies(truth, n),
        "loops": copies(loops, n),
        "misuse": copies(Child.misuse, n),
        "greet_shadowed": copies(Child.greet, n, loud),
        "globals": [f for ns in odd_globals for f in copies(lookup_globals, n, ns)],
        "mods": (mod, getattr_mod, odd_mod, trace),
        "module_code": module_code,
    }


def workload(ctx):
    n, mods = ctx["n"], ctx["mods"]
    loads, stores, calls_, subs = ctx["loads"], ctx["stores"], ctx["calls"], ctx["subscripts"]
    unpack, truths, misuse, greet = ctx["unpacking"], ctx["truth"], ctx["misuse"], ctx["greet_shadowed"]
    reader, writer, shadowed = Plugin("core"), Plugin("store"), Plugin("shadow")
    shadowed.run = abs
    lazy, guarded, tracked = Lazy(), Guarded(), Tracked()
    fault, loud_fault = Fault("x"), Fault("y")
    fault.origin = "loader"
    row, wide, tuned, child = Row((1, 2)), Wide(), Tuned(), Child()
    wide.f8999 = 0
    func = types.FunctionType(module_level.__code__, {})
    registry, plain = Registry(), Plain()
    bound_builtin = types.MethodType(len, "abc")
    items, buf, out = [1, 2, 3], bytearray(4), []
    table, lookup = Table(), Lookup()
    buffers = (array.array("d", [0.0] * 4), memoryview(bytearray(4)), Grid(), Cells(), Registry(),
               slice(0, 2))
    truthy = (Flag(), Sized(), collections.deque([1]), tuned, b"x", bytearray(b"x"), memoryview(b"x"),
              {"a": 1}, 0.5, (1,), frozenset((1,)))
    members, pages = frozenset((1, 2)), Pages()
    total = 0
    for i in range(n):
        for _ in range(3):
            total += loads[i](reader, shadowed, lazy, guarded, fault, row, wide, tuned, 2j, mods)
            total += stores[i](writer, tracked, loud_fault, Amount(i), Plugin("p"), wide, func,
                               registry, plain, mods[0])
            total += calls_[i](Slotted, tuned, child.greet, bound_builtin, ctx["module_code"],
                               out, items)
            total += subs[i](table, lookup, (1, 2), "ab", items, buf, buffers)
            total += unpack[i]((1, 2, 3), [1, 2, 3, 4])
            total += truths[i](*truthy)
            total += ctx["loops"][i](items, members, b"ab", pages)
            total += misuse[i](child) + greet[i](child)
    for f in ctx["globals"]:
        total += f() + f() + f()
    return total
