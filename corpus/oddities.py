"""Cases the specializer declines without naming a reason (SPEC_FAIL_OTHER), each at many fresh
sites (see declines.py for the technique): a sensor log that stores readings with bool
indexes into lists, arrays, bytearrays and memoryviews, into a deque, and tests complex and
range values for truth, and loops over a range whose bounds do not fit a C long (its
iterator is not the range iterator FOR_ITER_RANGE handles). Kept apart from declines.py so
that the generic kind of these families appears in no other benchmark: a specializer change
that makes any other case fail "for another reason" shows up as a new failure kind there,
and one that gives these cases a reason shows up as a new kind here."""
import array
import collections
import types


def copies(func, n):
    """n copies of func, each with its own code object (so its own specialization caches)."""
    return [types.FunctionType(func.__code__.replace(), func.__globals__, func.__name__)
            for _ in range(n)]


def record(readings, samples, raw, view, recent, flag, signal, window, span):
    readings[flag] = 1                    # list indexed by a bool
    samples[flag] = 0.5                   # array.array indexed by a bool
    raw[flag] = 1                         # bytearray indexed by a bool
    view[flag] = 1                        # memoryview indexed by a bool
    recent[0] = 2                         # deque: no specialized store
    total = 0
    if signal:                            # complex
        total += 1
    if window:                            # range
        total += 1
    for v in span:                        # a range past a C long: its own iterator type
        total += v & 1
    return total


def setup(args):
    n = int(args[0]) if args else 300
    return n, copies(record, n)


def workload(ctx):
    n, recorders = ctx
    readings, samples = [0, 0], array.array("d", [0.0, 0.0])
    raw, view = bytearray(2), memoryview(bytearray(2))
    recent = collections.deque([0, 0], maxlen=2)
    span = range(2**64, 2**64 + 3)
    total = 0
    for f in recorders:
        for _ in range(3):
            total += f(readings, samples, raw, view, recent, True, 1j, range(3), span)
    return total
