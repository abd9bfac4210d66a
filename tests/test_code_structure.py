"""The code base's structure: no import cycle among modules at import time (but the one listed), and the layer
classes a saved model may name are registered as they are defined, not listed by hand."""

from __future__ import annotations

import ast
from pathlib import Path

import deepfin
from deepfin import layers, models
from deepfin.layers.base import Layer, saveable_class, saveable_class_names

SOURCE = Path(deepfin.__file__).parent
# Tensor's methods are the engine's functions (x.exp() is functions.exp(x)): tensor.py imports them at its end, after
# the class they build on. It is the one cycle left, on purpose.
ALLOWED_CYCLES = [{"deepfin.engine.functions", "deepfin.engine.tensor"}]


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Each module's imports of other deepfin modules at module level (not inside functions)."""
    paths = {module_name(p): p for p in SOURCE.rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                for alias in node.names:
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in paths else base)
        graph[name] = {m for m in found if m in paths and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_but_the_one_listed():
    graph = import_graph()
    assert cycles(graph) == ALLOWED_CYCLES


def test_a_cycle_is_found_where_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_saveable_classes_are_every_public_layer_class_but_lambda():
    public = {name for name in layers.__all__ if isinstance(getattr(layers, name), type)
              and issubclass(getattr(layers, name), Layer) and getattr(layers, name).__name__ == name}
    assert set(saveable_class_names()) == (public - {"Lambda", "Layer"}) | {"Sequential", "Functional"}
    assert saveable_class("Lambda") is None and saveable_class("Model") is None
    assert saveable_class("Sequential") is models.Sequential


def test_a_layer_class_outside_deepfin_is_not_registered():
    class Twice(Layer):
        def call(self, x):
            return x * 2

    assert saveable_class("Twice") is None


def private_reach_ins(path: Path) -> list[str]:
    """``thing._name`` where ``_name`` is not defined in the module itself (as ``self._name``, a class attribute,
    a module-level name or a function), and ``from module import _name`` of another library's private name.
    Imports of deepfin's own underscore modules (``deepfin._custom``, ``deepfin._archive``...) are allowed: they
    are the package's internal helpers, private to the package, not to a module."""
    text = path.read_text()
    tree = ast.parse(text)
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls") \
                and isinstance(node.ctx, ast.Store):
            own.add(node.attr)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        own.add(name.id)
                    elif isinstance(name, ast.Attribute) and isinstance(name.value, ast.Name) and \
                            name.value.id in ("self", "cls"):
                        own.add(name.attr)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                if private and not (node.module == "deepfin" and (SOURCE / f"{alias.name}.py").exists()):
                    found.append(f"{path.name}:{node.lineno}: from {node.module} import {alias.name}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            if isinstance(base, ast.Name) and base.id in ("self", "cls") or node.attr in own:
                continue
            if isinstance(base, ast.Call) and getattr(base.func, "id", None) == "super":
                continue
            found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_reaches_into_another_modules_private_names():
    found = [line for path in sorted(SOURCE.rglob("*.py")) for line in private_reach_ins(path)]
    assert not found, "\n".join(found)


def test_a_private_reach_in_is_found(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text("import zipfile\nfrom sklearn.utils import _safe_indexing\n\n\ndef end(stream, model):\n"
                      "    return zipfile._EndRecData(stream), model._metrics\n")
    assert len(private_reach_ins(module)) == 3


def test_the_runs_wide_records_are_built_by_keyword():
    """``Plan`` (15 fields) and ``Result`` (18) take their fields by name only, so that a field added or moved
    cannot shift the others."""
    import dataclasses

    import pytest

    from deepfin.finance.pipeline.workflow import Plan, Result

    for record in (Plan, Result):
        assert all(f.kw_only for f in dataclasses.fields(record))
        with pytest.raises(TypeError):
            record(*range(len(dataclasses.fields(record))))
