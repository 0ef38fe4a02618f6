"""A copy of the project with an empty data/ folder, and `kedro` run in it as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def project_copy(root: Path) -> Path:
    """A project folder (pyproject, conf, src) whose data/ is empty: nothing has run there."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    shutil.copytree(
        REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    return root


def kedro(root: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """Run ``kedro <args>`` in ``root`` (telemetry off, the project's logging); never raises."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    env["KEDRO_LOGGING_CONFIG"] = str(root / "conf" / "logging.yml")
    return subprocess.run(
        [str(Path(sys.executable).with_name("kedro")), *args],
        check=False,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
