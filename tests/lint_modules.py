#!/usr/bin/env python3
"""Structure checks on rust-core/src (the test command runs this):

1. No import cycle among the crate's top-level modules. An edge A -> B is any `crate::B` path
   in A's non-test code (`use crate::B...`, `crate::B::f()`, `use crate::{B, ..}`); test code
   (`#[cfg(test)]` items and files of test modules) is left out, since tests may reach across.
2. No function longer than MAX_LINES lines unless the line before it (or its doc comment) says
   why, with a comment containing "long:".

Exits 1 and prints every finding; prints a summary otherwise.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rust-core", "src")
MAX_LINES = 80
TEST_FILES = {"tests.rs", "root_tests.rs", "test_utils.rs", "fake.rs"}


def strip_comments_and_strings(text):
    """Blanks out comments, string and char literals, keeping line structure."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"' or (c == "r" and re.match(r'r#*"', text[i:i + 10]) and not text[i - 1:i].isalnum()):
            m = re.match(r'r(#*)"', text[i:i + 10])
            if c == "r" and m:
                end = '"' + m.group(1)
                j = text.find(end, i + len(m.group(0)))
                j = n if j < 0 else j + len(end)
            else:
                j = i + 1
                while j < n and text[j] != '"':
                    j += 2 if text[j] == "\\" else 1
                j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'" and re.match(r"'(\\.|[^\\'])'|'\\u\{[0-9a-fA-F]+\}'", text[i:i + 12]):
            m = re.match(r"'(\\.|[^\\'])'|'\\u\{[0-9a-fA-F]+\}'", text[i:i + 12])
            out.append(" " * len(m.group(0)))
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching_brace(code, open_at):
    depth = 0
    for j in range(open_at, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(code) - 1


def drop_test_items(code):
    """Removes `#[cfg(test)]` items (a `mod x { ... }`, `mod x;`, a fn or use)."""
    while True:
        m = re.search(r"#\[cfg\(test\)\]", code)
        if not m:
            return code
        start, k = m.start(), m.end()
        brace, semi = code.find("{", k), code.find(";", k)
        if semi >= 0 and (brace < 0 or semi < brace):
            end = semi
        else:
            end = matching_brace(code, brace)
        code = code[:start] + re.sub(r"[^\n]", " ", code[start:end + 1]) + code[end + 1:]


def top_module(path):
    rel = os.path.relpath(path, ROOT)
    parts = rel.split(os.sep)
    if parts == ["lib.rs"]:
        return None
    return parts[0][:-3] if parts[0].endswith(".rs") else parts[0]


def crate_refs(code, modules):
    refs = set()
    for m in re.finditer(r"\bcrate::(\{[^}]*\}|\w+)", code):
        target = m.group(1)
        names = re.findall(r"\b(\w+)", target) if target.startswith("{") else [target]
        for name in names:
            if name in modules:
                refs.add(name)
    return refs


def find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return None


def long_functions(path, text):
    code = strip_comments_and_strings(text)
    lines = text.split("\n")
    found = []
    for m in re.finditer(r"\bfn\s+(\w+)\s*(<[^{;]*?>)?\s*\(", code):
        brace, semi = code.find("{", m.end()), code.find(";", m.end())
        if brace < 0 or (0 <= semi < brace and "(" not in code[m.end():semi]):
            continue
        # The body starts at the first '{' after the signature's closing parenthesis.
        depth, j = 0, m.end() - 1
        while j < len(code):
            if code[j] == "(":
                depth += 1
            elif code[j] == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        brace, semi = code.find("{", j), code.find(";", j)
        if brace < 0 or (0 <= semi < brace):
            continue  # a declaration without a body (trait method, extern fn)
        end = matching_brace(code, brace)
        first = code.count("\n", 0, m.start())
        last = code.count("\n", 0, end)
        length = last - first + 1
        if length <= MAX_LINES:
            continue
        # A "long:" comment in the doc comment or attributes right above says why.
        k, why = first - 1, False
        while k >= 0 and re.match(r"\s*(//|#\[)", lines[k]):
            why = why or "long:" in lines[k]
            k -= 1
        if not why:
            found.append((path, first + 1, m.group(1), length))
    return found


def main():
    files = []
    for dirpath, _, names in os.walk(ROOT):
        files += [os.path.join(dirpath, n) for n in names if n.endswith(".rs")]
    modules = {top_module(f) for f in files} - {None}
    graph = {m: set() for m in modules}
    problems = []
    for f in sorted(files):
        text = open(f, encoding="utf-8").read()
        problems += [f"{os.path.relpath(p, ROOT)}:{line}: fn {name} is {n} lines (over {MAX_LINES} "
                     f"without a 'long:' comment saying why)" for p, line, name, n in long_functions(f, text)]
        mod = top_module(f)
        if mod is None or os.path.basename(f) in TEST_FILES or f.endswith("bindings.rs"):
            continue
        code = drop_test_items(strip_comments_and_strings(text))
        graph[mod] |= crate_refs(code, modules) - {mod}
    cycle = find_cycle(graph)
    if cycle:
        problems.append("import cycle among top-level modules: " + " -> ".join(cycle))
    for p in problems:
        print(p)
    if problems:
        return 1
    edges = sum(len(v) for v in graph.values())
    print(f"module graph: {len(modules)} modules, {edges} edges, no cycle; "
          f"no function over {MAX_LINES} lines without a reason")
    for m in sorted(graph):
        print(f"  {m} -> {', '.join(sorted(graph[m])) or '(nothing)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
