"""The README results updater."""

from __future__ import annotations

import pytest

from tools.readme import END, START, replace_section


def test_replaces_only_the_marked_section() -> None:
    readme = f"# t\nbefore\n{START}\nold table\n{END}\nafter\n"
    out = replace_section(readme, "| model | miou |\n|---|---|\n| a | 0.5 |\n")
    assert out.startswith("# t\nbefore\n")
    assert out.endswith(f"{END}\nafter\n")
    assert "old table" not in out and "| a | 0.5 |" in out and "synthetic demo region" in out


def test_missing_markers_fail() -> None:
    with pytest.raises(ValueError, match="markers"):
        replace_section("# no markers\n", "| x |")
