"""SEND (generators and coroutines, yield from / await, also into a generator or coroutine
that is itself suspended in a yield from or await), async functions, FOR_ITER_GEN."""


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


def relay(n):
    """Delegates to a delegating generator: each SEND here resumes `outer`, which is itself
    suspended inside its own yield from (a chain of two)."""
    return (yield from outer(n))


class Tick:
    """An awaitable that suspends once, like a future that is not done yet."""

    def __await__(self):
        yield
        return 1


async def waiter(i):
    return await Tick() + i


async def request(i):
    return await waiter(i)


async def serve(n):
    """A task whose await chain (serve -> request -> waiter -> Tick) suspends: resuming it
    sends into coroutines that are themselves suspended inside an await."""
    total = 0
    for i in range(n):
        total += await request(i)
    return total


def drive(coro):
    """An event loop's step, reduced: send None until the coroutine returns."""
    while True:
        try:
            coro.send(None)
        except StopIteration as stop:
            return stop.value


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
    total = run_coro(root(n)) + drive(serve(n // 2))
    for _ in range(n // 50):
        g = outer(50)
        for x in g:
            total += x
    for _ in range(n // 100):
        for x in relay(50):
            total += x
    return total
