"""A long-running template server: every request renders a small template function in a
fresh namespace dict. LOAD_GLOBAL caches a dict's keys version in 16 bits, and versions are
handed out interpreter-wide, one per namespace the specializer looks at; after 65,536 of
them (setup() renders that many requests first) new namespaces can no longer be cached, and
LOAD_GLOBAL records SPEC_FAIL_OUT_OF_RANGE for the module, builtin and globals-version cases.
The workload renders each template at many fresh sites (one code object per copy, run three
times: see declines.py) so each of those failure paths is taken hundreds of times."""
import builtins
import types


def render_title():
    return title


def render_length():
    return len("request")


def render_cached():
    return len(__name__)


def site_name():
    return __name__


def copies(func, n, namespace):
    """n copies of func, each with its own code object (so its own specialization caches)."""
    return [types.FunctionType(func.__code__.replace(), namespace) for _ in range(n)]


def serve(count):
    """Render `count` requests, each in its own namespace (each takes one keys version)."""
    code = render_title.__code__
    for i in range(count):
        page = types.FunctionType(code.replace(), {"title": i})
        page()
        page()


def setup(args):
    n = int(args[0]) if args else 300
    # A namespace whose keys got their version before the server ran out, and a private
    # builtins dict that gets its first version only afterwards.
    site_builtins = {name: value for name, value in vars(builtins).items()}
    site = {"__name__": "site", "__builtins__": site_builtins}
    for warm in copies(site_name, 1, site):
        warm()
        warm()
    serve(66000)
    pages = []
    for i in range(n):
        pages += copies(render_title, 1, {"title": "t"})
        pages += copies(render_length, 1, {"__builtins__": builtins})
    pages += copies(render_cached, n, site)
    return pages


def workload(pages):
    total = 0
    for page in pages:
        total += len(str(page())) + len(str(page())) + len(str(page()))
    return total
