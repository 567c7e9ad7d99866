#!/usr/bin/env python3
"""Lists Rust functions longer than a limit (default 80 lines); exit 1 if any.

Usage: ci/fn-lengths.py [--limit N] [--top K] [PATH...]   (default PATH: src)
Brace matching skips string literals, char literals and comments, which is
enough for this crate's code (no macros that open unbalanced braces).
"""
import argparse, pathlib, re, sys

FN = re.compile(r'^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)')


def strip(line, state):
    """Returns the line's code with strings/comments blanked; state carries block comments."""
    out, i = [], 0
    while i < len(line):
        if state['block']:
            j = line.find('*/', i)
            if j < 0:
                return ''.join(out), state
            state['block'] = False
            i = j + 2
            continue
        if state['str']:
            if line[i] == '\\':
                i += 2
                continue
            if line[i] == '"' and line.startswith('#' * state['hashes'], i + 1):
                state['str'] = False
                i += 1 + state['hashes']
                continue
            i += 1
            continue
        c = line[i]
        if line.startswith('//', i):
            break
        if line.startswith('/*', i):
            state['block'] = True
            i += 2
            continue
        m = re.match(r'b?r(#*)"', line[i:])
        if m and (i == 0 or not (line[i - 1].isalnum() or line[i - 1] == '_')):
            state['str'], state['hashes'] = True, len(m.group(1))
            i += len(m.group(0))
            continue
        if c == '"':
            state['str'], state['hashes'] = True, 0
            i += 1
            continue
        m = re.match(r"'(\\.|[^\\'])'", line[i:])
        if c == "'" and m:
            i += len(m.group(0))
            continue
        out.append(c)
        i += 1
    return ''.join(out), state


def functions(path):
    lines = path.read_text().splitlines()
    state = {'block': False, 'str': False, 'hashes': 0}
    stack = []  # (name, start line, depth at which its body opened)
    depth, pending = 0, None
    for no, raw in enumerate(lines, 1):
        code, state = strip(raw, state)
        m = FN.match(code)
        if m and pending is None:
            pending = (m.group(6), no)
        for ch in code:
            if ch == '{':
                depth += 1
                if pending is not None:
                    stack.append((pending[0], pending[1], depth))
                    pending = None
            elif ch == '}':
                if stack and stack[-1][2] == depth:
                    name, start, _ = stack.pop()
                    yield name, start, no - start + 1
                depth -= 1
            elif ch == ';' and pending is not None and depth >= 0:
                pending = None  # a declaration without a body (trait method)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--limit', type=int, default=80)
    ap.add_argument('--top', type=int, default=0, help='also list the K longest')
    ap.add_argument('paths', nargs='*', default=['src'])
    a = ap.parse_args()
    found = []
    for p in a.paths:
        for f in sorted(pathlib.Path(p).rglob('*.rs')):
            found += [(name, str(f), start, length) for name, start, length in functions(f)]
    found.sort(key=lambda t: -t[3])
    for name, f, start, length in found[:a.top]:
        print(f'{length:5} {f}:{start} {name}')
    over = [t for t in found if t[3] > a.limit]
    for name, f, start, length in over:
        print(f'too long: {f}:{start} fn {name} is {length} lines (limit {a.limit})', file=sys.stderr)
    return 1 if over else 0


if __name__ == '__main__':
    sys.exit(main())
