#!/usr/bin/env python3
"""Which C files call each other in a loop.

  scripts/file-cycles.py [DIR]      (default: backend; `make lint` runs it)

A file A "uses" file B when A names a function or global that B alone defines
(external linkage, defined at the start of a line, as this project writes C).
Prints every group of files that use each other in a circle (strongly connected
components with more than one file), with the names that tie them, and exits 1
when there is one. A layered design has none: each file only uses files below it.
"""
import os, re, sys

root = sys.argv[1] if len(sys.argv) > 1 else "backend"
files = sorted(os.path.join(root, f) for f in os.listdir(root) if f.endswith(".c"))
src = {f: open(f, encoding="utf-8", errors="replace").read() for f in files}


def strip(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)


clean = {f: strip(t) for f, t in src.items()}
owner = {}
for f, t in clean.items():
    for m in re.finditer(r"^(?!static\b)[A-Za-z_][\w \*]*?\b([A-Za-z_]\w*)\s*\([^;{]*\)\s*\{", t, re.M):
        owner.setdefault(m.group(1), set()).add(f)
owner = {n: next(iter(fs)) for n, fs in owner.items() if len(fs) == 1 and n not in ("main", "if", "for", "while", "switch")}

uses = {f: {} for f in files}
for f, t in clean.items():
    for n in set(re.findall(r"\b([A-Za-z_]\w*)\s*\(", t)):
        g = owner.get(n)
        if g and g != f:
            uses[f].setdefault(g, set()).add(n)

# Tarjan's strongly connected components
index, low, stack, on, out, i = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)


def visit(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in uses[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            out.append(sorted(comp))


for v in files:
    if v not in index:
        visit(v)

for k, comp in enumerate(out, 1):
    print(f"circle {k}: {len(comp)} files: {', '.join(comp)}")
    for a in comp:
        for b in comp:
            if b in uses[a]:
                names = sorted(uses[a][b])
                print(f"  {a} -> {b}: {', '.join(names[:6])}{' ...' if len(names) > 6 else ''}")
if not out:
    print(f"no circle among {len(files)} files in {root}")
sys.exit(1 if out else 0)
