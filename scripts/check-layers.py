#!/usr/bin/env python3
"""Checks the core's module graph: no import cycle between src/'s files, and every import
between folders goes down the layers below (a folder may use its own files and any
folder under it). Prints each folder's imports of other folders; exits 1 on a breach.

Resolves `crate::`, `super::` and `self::` paths (the shared cycle tool reads `crate::`
paths only), in code and `use` lines, tests inside a file included.
"""
import os
import re
import sys

# Top to bottom; folders in one row must not use each other. Top-level files (lib.rs,
# the simulation and fuzzing harnesses, android.rs) may use every folder.
LAYERS = ["api", "engine", "store dpop", "net", "foundation", "types"]
RANK = {folder: rank for rank, row in enumerate(LAYERS) for folder in row.split()}

root = "src"
files = {}
for d, _, names in os.walk(root):
    for name in names:
        if name.endswith(".rs"):
            rel = os.path.relpath(os.path.join(d, name), root)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib"):
                rel = rel[:-1]
            files["::".join(rel)] = os.path.join(d, name)


def resolve(parts):
    for n in range(len(parts), 0, -1):
        key = "::".join(parts[:n])
        if key in files:
            return key
    return None


def expand(text):
    """Every path in `text` as a list of segments, `use` groups expanded."""
    text = re.sub(r"//[^\n]*", "", text)
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        paths += flatten(m.group(1).replace("\n", " "))
    paths += [p.split("::") for p in re.findall(r"\b(?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+", text)]
    return paths


def flatten(tree, prefix=""):
    tree = tree.strip()
    m = re.match(r"^([A-Za-z_0-9:]*)\{(.*)\}$", tree, re.S)
    if not m:
        return [(prefix + tree.split(" as ")[0].strip()).split("::")]
    head, body = m.group(1), m.group(2)
    items, depth, start = [], 0, 0
    for i, c in enumerate(body):
        depth += c == "{"
        depth -= c == "}"
        if c == "," and depth == 0:
            items.append(body[start:i])
            start = i + 1
    items.append(body[start:])
    out = []
    for item in filter(str.strip, items):
        item = item.strip()
        out += [prefix.split("::")[:-1] + head.split("::")[:-1]] if item == "self" else flatten(item, prefix + head)
    return out


edges = {m: set() for m in files}
for module, path in files.items():
    own = module.split("::") if module else []
    is_folder = os.path.basename(path) in ("mod.rs", "lib.rs")
    here = own if is_folder else own[:-1]
    for parts in expand(open(path, encoding="utf-8").read()):
        parts = [p for p in parts if p]
        if not parts:
            continue
        if parts[0] == "crate":
            absolute = parts[1:]
        elif parts[0] in ("super", "self"):
            base = list(here)
            while parts and parts[0] in ("super", "self"):
                if parts[0] == "super":
                    base = base[:-1]
                parts = parts[1:]
            absolute = base + parts
        else:
            continue
        target = resolve(absolute)
        if target is not None and target != module:
            edges[module].add(target)

# Cycles: Tarjan's strongly connected components.
index, low, on, stack, cycles, counter = {}, {}, set(), [], [], [0]
sys.setrecursionlimit(10000)


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        component = []
        while True:
            w = stack.pop()
            on.discard(w)
            component.append(w)
            if w == v:
                break
        if len(component) > 1:
            cycles.append(sorted(component))


for v in list(edges):
    if v not in index:
        visit(v)


def folder(module):
    return module.split("::")[0] if "::" in module or module in RANK else None


breaches, uses = [], {}
for a, targets in edges.items():
    for b in targets:
        fa, fb = folder(a), folder(b)
        if fa is None or fb is None or fa == fb:
            continue
        uses.setdefault(fa, set()).add(fb)
        if fa not in RANK or fb not in RANK or RANK[fb] <= RANK[fa]:
            breaches.append(f"{a or 'lib'} uses {b}")

print(f"{len(files)} files, {sum(map(len, edges.values()))} imports")
for rank, row in enumerate(LAYERS):
    for f in row.split():
        below = ", ".join(sorted(uses.get(f, ()), key=lambda x: RANK.get(x, 99))) or "nothing"
        print(f"layer {rank + 1} {f:<11} uses {below}")
for c in cycles:
    print(f"cycle of {len(c)} files: {', '.join(c)}")
for b in sorted(breaches):
    print(f"upward or sideways: {b}")
print(f"module cycles: {len(cycles)}, layer breaches: {len(breaches)}")
sys.exit(1 if cycles or breaches else 0)
