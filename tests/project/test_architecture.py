"""The layering of docs/architecture.md holds in the code: imports only go downwards."""

from __future__ import annotations

from tools.architecture import import_graph, problems


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
