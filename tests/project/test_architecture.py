"""The layering of docs/architecture.md holds in the code: imports only go downwards.

And the code stays readable: nodes are short, long functions are few.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tools.architecture import REFRESH, SRC, draw, graph_record, import_graph, problems, stale


def test_the_code_follows_the_layers() -> None:
    edges, lines = import_graph()
    assert {"analysis", "models", "geo", "pipelines.risk"} <= set(lines)
    assert "analysis" in edges["pipelines.risk"]
    assert problems(edges, lines) == []


def test_a_break_of_the_rules_is_found() -> None:
    edges, lines = import_graph()
    bad = {**edges, "geo": {"pipelines.risk"}, "pipelines.risk": {"pipelines.mercury"}}
    found = problems(bad, {**lines, "newpkg": 10})
    assert (
        "geo (foundations) imports pipelines.risk (pipelines (thin nodes)), a layer above it"
        in found
    )
    assert "pipelines.risk imports pipelines.mercury: pipelines never import each other" in found
    assert any("newpkg: in no layer" in f for f in found)
    assert any(f.endswith("a circle of imports") for f in found)


def test_the_architecture_picture_is_fresh() -> None:
    edges, lines = import_graph()
    assert stale(graph_record(edges, lines)) is None


def test_a_stale_picture_is_found(tmp_path: Path) -> None:
    edges, lines = import_graph()
    picture, sidecar = tmp_path / "a.png", tmp_path / "a.json"
    assert REFRESH in stale(graph_record(edges, lines), picture, sidecar)  # missing
    draw(edges, lines, picture)
    assert stale(graph_record(edges, lines), picture, sidecar) is None
    # Line counts change with every edit: not what the check is about.
    assert stale(graph_record(edges, {**lines, "geo": 1}), picture, sidecar) is None
    moved = {**edges, "pipelines.risk": edges["pipelines.risk"] - {"analysis"}}
    assert f"stale: the packages or imports of the code changed; run `{REFRESH}`" in stale(
        graph_record(moved, lines), picture, sidecar
    )
    new = {**lines, "pipelines.new": 10}
    assert "stale" in stale(graph_record(edges, new), picture, sidecar)
    sidecar.write_text(sidecar.read_text().replace('"graph_sha256": "', '"graph_sha256": "0'))
    assert "do not belong together" in stale(graph_record(edges, lines), picture, sidecar)


# Nodes are small functions that call the library; long functions are few.
NODE_MAX_LINES = 40
LONG_LINES = 60
MAX_LONG_FUNCTIONS = 6


def function_lengths(root: Path = SRC) -> dict[str, int]:
    """Lines (signature, docstring and body) of every function under ``root``, by ``file:name``."""
    lengths = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{path.relative_to(root).as_posix()}:{node.name}"
                lengths[name] = max(lengths.get(name, 0), node.end_lineno - node.lineno + 1)
    return lengths


def long_nodes(lengths: dict[str, int]) -> list[str]:
    """Functions of ``pipelines/<name>/nodes.py`` over :data:`NODE_MAX_LINES` lines."""
    return sorted(
        f"{name} ({n} lines)"
        for name, n in lengths.items()
        if re.fullmatch(r"pipelines/[^/]+/nodes\.py:.*", name) and n > NODE_MAX_LINES
    )


def long_functions(lengths: dict[str, int]) -> list[str]:
    """Functions anywhere in the package over :data:`LONG_LINES` lines."""
    return sorted(f"{name} ({n} lines)" for name, n in lengths.items() if n > LONG_LINES)


def test_nodes_are_short() -> None:
    found = long_nodes(function_lengths())
    assert found == [], (
        f"Node functions over {NODE_MAX_LINES} lines: {found}; move the science into the "
        "library (analysis/, models/, geo/...) and let the node call it"
    )


def test_long_functions_are_few() -> None:
    found = long_functions(function_lengths())
    assert len(found) <= MAX_LONG_FUNCTIONS, (
        f"{len(found)} functions over {LONG_LINES} lines (at most {MAX_LONG_FUNCTIONS}): {found}; "
        "split the new one"
    )


def test_the_size_checks_find_long_functions(tmp_path: Path) -> None:
    nodes = tmp_path / "pipelines" / "demo"
    nodes.mkdir(parents=True)
    body = "\n".join(f"    x{i} = {i}" for i in range(45))
    (nodes / "nodes.py").write_text(f"def big():\n{body}\n\n\ndef small():\n    return 1\n")
    (tmp_path / "lib.py").write_text(f"def huge():\n{body}\n{body}\n")
    lengths = function_lengths(tmp_path)
    assert lengths == {
        "pipelines/demo/nodes.py:big": 46,
        "pipelines/demo/nodes.py:small": 2,
        "lib.py:huge": 91,
    }
    assert long_nodes(lengths) == ["pipelines/demo/nodes.py:big (46 lines)"]
    assert long_functions(lengths) == ["lib.py:huge (91 lines)"]
