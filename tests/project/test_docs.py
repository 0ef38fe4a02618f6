"""The docs: the parameter reference is generated from conf, and the site builds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tools.docs import parameters_markdown


def test_parameter_reference_is_up_to_date() -> None:
    expected = parameters_markdown(REPO / "conf" / "base")
    assert (REPO / "docs" / "parameters.md").read_text() == expected, "run `make docs`"
    for name in (
        "ingestion",
        "training",
        "inference",
        "transition",
        "economics",
        "mercury",
        "risk",
    ):
        assert f"\n## {name}\n" in expected


def test_docs_site_builds_strictly(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).with_name("mkdocs")
    subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )
    for page in ("index.html", "architecture/index.html", "parameters/index.html"):
        assert (tmp_path / "site" / page).is_file(), page
