"""CALL shapes of a small text-processing pipeline: methods with defaults, *args functions,
closures, callable objects, classes with __new__, builtin classes (tuple, list, range, int),
builtins with keywords, and str/dict/list/set method descriptors of every calling convention,
as expressions and as statements whose result is dropped (CALL specializes on that), and
called through their class (`str.upper(s)`, `dict.get(d, k)`: the object is an argument)."""


class Tokenizer:
    def __init__(self, sep):
        self.sep = sep

    def split(self, text, limit=-1):
        return text.split(self.sep, limit)

    def count(self, text):
        return text.count(self.sep)


class Scaler:
    """A callable object (not a function): CALL_NON_PY_GENERAL."""

    def __init__(self, k):
        self.k = k

    def __call__(self, v):
        return v * self.k


class Token(str):
    """A str subclass created through __new__."""

    def __new__(cls, text):
        return super().__new__(cls, text.strip())


def concat(*parts):
    return len(parts)


def make_counter():
    hits = [0]

    def hit(k):
        hits[0] += k
        return hits[0]

    return hit


def setup(args):
    n = int(args[0]) if args else 20000
    lines = ["alpha,beta,gamma", "one,two", " padded ,x", "a,b,c,d,e"]
    return n, lines


def workload(ctx):
    n, lines = ctx
    tok = Tokenizer(",")
    scale = Scaler(3)
    hit = make_counter()
    freq = {}
    seen = set()
    total = 0
    for i in range(n):
        line = lines[i & 3]
        parts = tok.split(line)
        total += tok.count(line)
        t = tuple(parts)
        total += len(t) + len(tuple(t)) + len(list(range(i & 7)))
        total += int("7") + round(2.5 + i, 1) > 0
        total += freq.get(line, 0)
        freq[line] = i
        seen.add(line)                    # a one-argument method whose result is dropped
        seen.discard(parts[0])
        total += len(line.upper()) + len(line.split(",", 2))
        total += scale(i & 15)
        total += concat(i, line, t)
        total += hit(1)
        total += len(Token(line))
        total += line.startswith("a") + line.find(",")
        # the same methods called through their class, T.method(obj, ...): no bound self,
        # so the call count includes the object (oparg and the specializer's nargs differ)
        total += len(str.upper(line)) + len(list.copy(parts)) + len(str.join("-", parts))
        total += dict.get(freq, line, 0) + Tokenizer.count(tok, line)
    return total
