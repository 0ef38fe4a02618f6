"""The README's generated sections: the demo results and the pipelines."""

from __future__ import annotations

import pytest

from tools.readme import (
    END,
    PIPELINES_END,
    PIPELINES_START,
    REFRESH,
    ROOT,
    START,
    _summary,
    describe,
    pipelines_section,
    replace_pipelines,
    replace_section,
)


def test_replaces_only_the_marked_section() -> None:
    readme = f"# t\nbefore\n{START}\nold table\n{END}\nafter\n"
    out = replace_section(readme, "| model | miou |\n|---|---|\n| a | 0.5 |\n")
    assert out.startswith("# t\nbefore\n")
    assert out.endswith(f"{END}\nafter\n")
    assert "old table" not in out and "| a | 0.5 |" in out and "synthetic demo region" in out


def test_missing_markers_fail() -> None:
    with pytest.raises(ValueError, match="markers"):
        replace_section("# no markers\n", "| x |")


def test_the_readme_pipelines_are_fresh() -> None:
    readme = (ROOT / "README.md").read_text()
    expected = replace_pipelines(readme, pipelines_section())
    assert readme == expected, (
        f"The README's pipelines (between {PIPELINES_START} and {PIPELINES_END}) are stale: "
        f"run `{REFRESH}` and commit README.md"
    )


def test_every_registered_pipeline_is_in_the_table() -> None:
    from cocoa_threat.pipeline_registry import register_pipelines

    section = pipelines_section()
    for name in set(register_pipelines()) - {"__default__"}:
        assert f"`kedro run --pipeline={name}`" in section
    assert "`data/08_reporting/economic_summary.csv`" in section  # from the catalog
    assert "spatial-block cross-validation" in section  # from the mercury package's docstring
    assert "--namespaces=training.resnet50" in section


def test_a_pipeline_without_a_package_or_a_docstring_is_named() -> None:
    with pytest.raises(ValueError, match="no package cocoa_threat.pipelines.nowhere"):
        describe("nowhere")
    with pytest.raises(ValueError, match="pkg has no docstring"):
        _summary("  ", "pkg")
    assert _summary("Risk: a ``score``.\n  Two lines.\n\nMore.", "x") == "A `score`. Two lines."
    with pytest.raises(ValueError, match="markers"):
        replace_pipelines("# no markers\n", "table")
