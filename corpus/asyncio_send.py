"""SEND (generators and coroutines, yield from / await), async functions, FOR_ITER_GEN."""


class Ready:
    """An awaitable that completes immediately."""

    def __init__(self, v):
        self.v = v

    def __await__(self):
        return self.v
        yield  # pragma: no cover - makes this a generator


def inner(n):
    for i in range(n):
        yield i
    return n


def outer(n):
    total = yield from inner(n)
    return total


async def leaf(i):
    return i * 2


async def middle(i):
    a = await leaf(i)
    b = await Ready(i)
    return a + b


async def root(n):
    total = 0
    for i in range(n):
        total += await middle(i)
    return total


def run_coro(coro):
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("coroutine suspended")


def setup(args):
    n = int(args[0]) if args else 20000
    return n


def workload(n):
    total = run_coro(root(n))
    for _ in range(n // 50):
        g = outer(50)
        for x in g:
            total += x
    return total
