"""Operands near the specializer's size and range limits, in a small telemetry decoder: big
ints (checksums past 2**64), non-ASCII text indexed at ASCII positions, ranges with steps,
a generator loop whose body is long (a long jump back), a record class with many __slots__
and one with many instance attributes (the fields read are the last ones), a generated
constants module with hundreds of names and a function whose module globals hold hundreds of
names (the names read are the last ones) and got their keys version after thousands of
others, rows whose last column is rewritten, every index of short strs, tuples and lists,
a recursive walk 400 frames deep, objects whose replaced __dict__ fills its keys table
exactly (read at the last key), and a big checksum compared with a small counter in both
operand orders (a compactness test written for one operand twice, by copy and paste, is
wrong in one of the orders only). Each is specialized in 3.13, so a limit made tighter
by mistake (a narrower integer type for an offset or index, an extra range or depth guard,
compact-only arithmetic) turns into failures, lost forms or misses here."""
import types

FIELDS = 40


def make_record_class():
    names = [f"f{k}" for k in range(FIELDS)]
    return type("Record", (), {"__slots__": tuple(names)}), names


class Frame:
    """Many instance attributes: the last ones sit deep in the inline values."""

    def __init__(self, v):
        self.a0 = v
        self.a1 = v
        self.a2 = v
        self.a3 = v
        self.a4 = v
        self.a5 = v
        self.a6 = v
        self.a7 = v
        self.a8 = v
        self.a9 = v
        self.a10 = v
        self.a11 = v
        self.a12 = v
        self.a13 = v
        self.crc = v
        self.size = v


class Sample:
    """Attributes in a replaced __dict__ (LOAD_ATTR_WITH_HINT) whose keys table is exactly
    full: 5 and 10 keys fill tables of 8 and 16 slots (no usable slot left)."""

    KEYS = ("k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9")   # interned, as names are

    def __init__(self, width, v):
        self.__dict__ = {key: v + k for k, key in enumerate(self.KEYS[:width])}


def packets(n, frame):
    for i in range(n):
        yield frame


def decode(n, frame, rec):
    """A long loop body over a generator: its FOR_ITER jumps far."""
    total = 0
    for p in packets(n, frame):
        total += p.crc + p.size + p.a13 + p.a12 + p.a11 + p.a10
        total += p.a9 + p.a8 + p.a7 + p.a6 + p.a5 + p.a4
        total += rec.f39 + rec.f38 + rec.f37 + rec.f36 + rec.f35
        total += rec.f34 + rec.f33 + rec.f32 + rec.f31 + rec.f30
        total &= 0xFFFF
    return total


def depth(node):
    """A recursive walk down a deep chain: calls specialized hundreds of frames deep."""
    if node is None:
        return 0
    return depth(node[1]) + 1


def scan(word, fields, row):
    """Every index of a str, a tuple and a list, the last one included."""
    total = 0
    for k in range(len(word)):
        total += word[k] == "a"
    for k in range(len(fields)):
        total += fields[k]
    for k in range(len(row)):
        row[k] = total
    return total


def make_constants(n):
    consts = types.ModuleType("consts")
    for k in range(n):
        setattr(consts, f"OPT_{k}", k)
    return consts


LOOKUP_SOURCE = """
def lookup(n):
    total = 0
    for i in range(n):
        total += NAME_298 + NAME_299 + len(NAME_297)
    return total
"""


def make_lookup(n):
    namespace = {f"NAME_{k}": k for k in range(n)}
    namespace["NAME_297"] = "abc"
    exec(LOOKUP_SOURCE, namespace)
    return namespace["lookup"]


def plugin_value():
    return value


def load_plugins(count):
    """Plugins loaded and dropped before the measured work, as in any long-running process:
    each namespace took one dict-keys version, so the namespaces the workload specializes on
    get versions in the thousands (LOAD_GLOBAL caches them in 16 bits)."""
    for i in range(count):
        plugin = types.FunctionType(plugin_value.__code__.replace(), {"value": i})
        plugin()
        plugin()


def setup(args):
    n = int(args[0]) if args else 20000
    Record, names = make_record_class()
    rec = Record()
    for k, name in enumerate(names):
        setattr(rec, name, k)
    load_plugins(2000)
    return n, rec, Frame(3), make_constants(300), make_lookup(300)


def workload(ctx):
    n, rec, frame, consts, lookup = ctx
    s5, s10 = Sample(5, 1), Sample(10, 2)
    total = decode(n, frame, rec)
    total += lookup(n)
    text = "naïve café, crème brûlée: " * 2
    rows = [[k, k, k, 0] for k in range(8)]
    chain = None
    for k in range(400):
        chain = (k, chain)
    for i in range(n // 400):
        total += depth(chain)
        total += scan("banana", (1, 2, 3), [0, 0, 0])
    crc = (1 << 64) + 13
    for i in range(n):
        crc = (crc * 31 * 3 + i) % ((1 << 89) - 1)   # two big-int multiplications
        crc = crc + (1 << 70) - (1 << 65)
        if i < crc:
            total += 1
        if crc > i:
            total += 1
        total += consts.OPT_299 + consts.OPT_298 + consts.OPT_297
        total += s5.k4 + s5.k0 + s10.k9 + s10.k5
        if text[i & 1] == "a":
            total += 1
        for j in range(0, 12, 3):
            total += j
        for j in range(6, 0, -2):
            total -= j
        row = rows[i & 7]
        row[3] = row[0] + row[1] + row[2]
    return total + (crc & 0xFFFF)
