#!/usr/bin/env python3
"""Checks the crate's module graph: no import cycles, and stage folders import only downwards.

Usage: ci/module-deps.py [--graph]   (from the repository root; exit 1 on a violation)

A module is a file under src/ (`src/gate/rules.rs` is `gate::rules`, a `mod.rs` is its
folder). An edge A -> B is any `crate::B...` or `super::...` path in A that resolves to
another module B; `use` trees are expanded, grouped imports
(`use crate::{a::b, c}`) included. Edges from a module to its own ancestors are its parent's interface
(shared types a folder's `mod.rs` declares for its children) and are not counted. The
allowed folder edges are the pipeline's direction, as docs/architecture.md draws it.
"""
import pathlib, re, sys

SRC = pathlib.Path('src')
# Which top-level parts may import which: the pipeline flows down this list.
LAYERS = {
    'error': set(), 'text': set(), 'output': {'error'}, 'cli': set(),
    'stats': {'error', 'output'},
    'gate': {'stats', 'error', 'output'},
    # Plain report models of bisect, history and mutants: built by commands, rendered by report.
    'model': set(),
    'report': {'model', 'gate', 'stats', 'error', 'output'},
    'exec': {'stats', 'error', 'output'},
    'commands': {'exec', 'report', 'model', 'gate', 'stats', 'error', 'output', 'cli'},
    'lib': {'commands', 'cli', 'error', 'output', 'exec', 'report', 'model', 'gate', 'stats'},
    'main': {'lib'},
}
for _deps in LAYERS.values():
    _deps.update({'text', 'testing', 'intern'})
LAYERS['text'] = set()
LAYERS['testing'] = set()
LAYERS['intern'] = set()


def module_of(path):
    parts = list(path.relative_to(SRC).with_suffix('').parts)
    if parts[-1] == 'mod':
        parts.pop()
    return tuple(parts) if parts not in (['lib'], ['main']) else (parts[0],)


def self_test():
    """Grouped and nested imports resolve like single ones (a missed edge hides a cycle)."""
    got = paths_in('use crate::{gate::{verdict::X, rules}, stats::set as s};\n'
                   'use super::super::{a, b::c};\nfn f() { crate::exec::run(); }')
    want = [('crate', 'gate', 'verdict', 'X'), ('crate', 'gate', 'rules'), ('crate', 'stats', 'set'),
            ('super', 'super', 'a'), ('super', 'super', 'b', 'c'), ('crate', 'exec', 'run')]
    assert got == want, got


def main():
    self_test()
    files = {module_of(p): p for p in SRC.rglob('*.rs')}
    mods = set(files)
    edges = {}
    for mod, path in files.items():
        text = re.sub(r'//[^\n]*', '', path.read_text())
        targets = set()
        for path in paths_in(text):
            if path[0] == 'crate':
                targets.add(path[1:])
            elif path[0] == 'super':
                ups = len(path) - len(path.lstrip_super())
                # A mod.rs is its folder's module (module_of), so `super` is always one level up.
                targets.add(mod[:-ups] + path.lstrip_super())
        resolved = set()
        for t in targets:
            for k in range(len(t), 0, -1):
                if t[:k] in mods:
                    resolved.add(t[:k])
                    break
        edges[mod] = {t for t in resolved if t != mod and mod[:len(t)] != t}
    bad = 0
    for mod, ts in sorted(edges.items()):
        for t in sorted(ts):
            a, b = mod[0], t[0]
            if a != b and b not in LAYERS.get(a, set()):
                print(f'layer violation: {"::".join(mod)} -> {"::".join(t)} ({a} may not import {b})')
                bad += 1
    for scc in sccs(edges):
        if len(scc) > 1:
            print('import cycle: ' + ' <-> '.join('::'.join(m) for m in sorted(scc)))
            bad += 1
    if '--graph' in sys.argv:
        for mod, ts in sorted(edges.items()):
            print('::'.join(mod), '->', ', '.join('::'.join(t) for t in sorted(ts)))
    return 1 if bad else 0


class Path(tuple):
    def lstrip_super(self):
        k = 0
        while k < len(self) and self[k] == 'super':
            k += 1
        return Path(self[k:])


def expand_use_tree(tree, prefix=()):
    """Expands a `use` tree (`a::{b, c::{d, e}}`) into its leaf paths, prefix included."""
    out, depth, start, parts = [], 0, 0, []
    tree = tree.strip()
    brace = tree.find('{')
    if brace < 0:
        leaf = tuple(x.strip() for x in tree.split(' as ')[0].split('::') if x.strip())
        return [prefix + leaf] if leaf or prefix else []
    head = tuple(x for x in tree[:brace].split('::') if x.strip())
    body = tree[brace + 1:tree.rindex('}')]
    for i, ch in enumerate(body):
        if ch == '{':
            depth += 1
        elif ch == '}':
            depth -= 1
        elif ch == ',' and depth == 0:
            parts.append(body[start:i]); start = i + 1
    parts.append(body[start:])
    for part in parts:
        if part.strip():
            out.extend(expand_use_tree(part, prefix + tuple(h.strip() for h in head)))
    return out


def paths_in(text):
    """Every `crate::`/`super::` path in a file: `use` trees expanded (grouped imports
    included), then inline paths outside `use` statements."""
    found = []
    for m in re.finditer(r'\buse\s+((?:crate|super)\b[^;]*);', text):
        found.extend(expand_use_tree(re.sub(r'\s+', ' ', m.group(1))))
    rest = re.sub(r'\buse\s+(?:crate|super)\b[^;]*;', '', text)
    for m in re.finditer(r'\bcrate((?:::\w+)+)', rest):
        found.append(('crate',) + tuple(m.group(1).split('::')[1:]))
    for m in re.finditer(r'\b((?:super::)+)((?:\w+::)*\w+)', rest):
        found.append(('super',) * m.group(1).count('super') + tuple(m.group(2).split('::')))
    return [Path(p) for p in found if p and p[0] in ('crate', 'super')]


def sccs(edges):
    index, low, on, stack, out, n = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1
        stack.append(v); on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop(); on.discard(w); comp.add(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return out


if __name__ == '__main__':
    sys.exit(main())
