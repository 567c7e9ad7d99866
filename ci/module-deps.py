#!/usr/bin/env python3
"""Checks the crate's module graph: no import cycles, and stage folders import only downwards.

Usage: ci/module-deps.py [--graph]   (from the repository root; exit 1 on a violation)

A module is a file under src/ (`src/gate/verdict.rs` is `gate::verdict`, a `mod.rs` is its
folder). An edge A -> B is any `crate::B...` or `super::...` path in A that resolves to
another module B. Edges from a module to its own ancestors are its parent's interface
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
    'report': {'gate', 'stats', 'error', 'output'},
    'exec': {'stats', 'error', 'output', 'cli'},
    'commands': {'exec', 'report', 'gate', 'stats', 'error', 'output', 'cli'},
    'lib': {'commands', 'cli', 'error', 'output', 'exec', 'report', 'gate', 'stats'},
    'main': {'lib'},
}
for _deps in LAYERS.values():
    _deps.update({'text', 'testing'})
LAYERS['text'] = set()
LAYERS['testing'] = set()


def module_of(path):
    parts = list(path.relative_to(SRC).with_suffix('').parts)
    if parts[-1] == 'mod':
        parts.pop()
    return tuple(parts) if parts not in (['lib'], ['main']) else (parts[0],)


def main():
    files = {module_of(p): p for p in SRC.rglob('*.rs')}
    mods = set(files)
    edges = {}
    for mod, path in files.items():
        text = re.sub(r'//[^\n]*', '', path.read_text())
        targets = set()
        for m in re.finditer(r'\bcrate((?:::\w+)+)', text):
            targets.add(tuple(m.group(1).split('::')[1:]))
        for m in re.finditer(r'\b((?:super::)+)((?:\w+::)*\w+)', text):
            ups = m.group(1).count('super')
            # A mod.rs is its folder's module (module_of), so `super` is always one level up.
            targets.add(mod[:-ups] + tuple(m.group(2).split('::')))
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
