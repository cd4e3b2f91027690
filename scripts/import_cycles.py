"""Import cycles between modules, counting function-level imports: a script, and the
import-linter contract type `no_cycles` (pyproject.toml, run by `make test`).

    .venv/bin/python scripts/import_cycles.py [package ...]     (default: idp)

grimp (installed with import-linter) reads every `import` statement of every module, at
module level or inside a function, so a late import that dodges a cycle at run time still
counts here. Each strongly connected component of the module graph is a knot of cycles;
for each one the script prints its modules and one shortest cycle through each import
inside it. Exit status 1 when there is a cycle.

import-linter's own `acyclic_siblings` compares packages squashed, sibling by sibling: it
misses a package's __init__ importing its own submodules that import it back, and it
flags two packages that use each other's modules without any module cycle. `no_cycles`
checks the module graph itself.
"""
from __future__ import annotations

import sys

import grimp
from importlinter.application import output
from importlinter.application.contract_utils import (AlertLevel,
                                                     remove_ignored_imports_and_report)
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def _components(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's strongly connected components with more than one module (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[set[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
    return found


def _lines(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    return ",".join(str(d["line_number"]) for d in details)


def cycles(graph: grimp.ImportGraph, component: set[str]) -> list[list[str]]:
    """One shortest cycle through each edge inside the component, without repeats."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for importer in sorted(component):
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & component):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if not back:
                continue
            cycle = [importer, *back]
            start = cycle.index(min(cycle[:-1]))
            key = tuple(cycle[start:-1] + cycle[:start])
            if key not in seen:
                seen.add(key)
                out.append(list(key) + [key[0]])
    return out


def main(packages: list[str]) -> int:
    graph = grimp.build_graph(*packages, cache_dir=None)
    components = _components(graph)
    for number, component in enumerate(components, 1):
        print(f"knot {number}: {len(component)} modules")
        for cycle in cycles(graph, component):
            print("  " + " -> ".join(
                f"{a} (l.{_lines(graph, a, b)})" for a, b in zip(cycle, cycle[1:]))
                + f" -> {cycle[-1]}")
    if not components:
        print("no import cycle")
    return 1 if components else 0


class NoCyclesContract(Contract):
    """No import cycle between the modules of `containers` (import-linter contract type)."""

    containers = fields.ListField(subfield=fields.StringField())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(AlertLevel, default=AlertLevel.ERROR)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        removal = remove_ignored_imports_and_report(
            graph=graph, ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting)  # type: ignore[arg-type]
        containers = tuple(self.containers)  # type: ignore[arg-type]
        found = [c for c in _components(graph) if any(
            m == p or m.startswith(p + ".") for m in c for p in containers)]
        knots = [[[[a, b, _lines(graph, a, b)] for a, b in zip(cycle, cycle[1:])]
                  for cycle in cycles(graph, component)] for component in found]
        return ContractCheck(kept=not knots, warnings=list(removal.warnings),
                             ignored_import_count=removal.ignored_import_count,
                             metadata={"knots": knots})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for number, knot in enumerate(check.metadata["knots"], 1):
            output.print(f"Cycles, knot {number}:")
            output.new_line()
            for cycle in knot:
                for importer, imported, lines in cycle:
                    output.indent_cursor()
                    output.print(f"{importer} -> {imported} (l.{lines})")
                output.new_line()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["idp"]))
