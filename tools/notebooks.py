"""The project's notebooks: strip their outputs for git, check them, run them headless.

``make notebooks-strip`` (or ``python -m tools.notebooks strip``) removes every output,
execution count and run-time metadata from ``notebooks/*.ipynb`` in place, so that git
holds only what was written; ``python -m tools.notebooks check`` fails if any notebook
still has them (the test suite checks the same); ``python -m tools.notebooks run
<project folder>`` executes each notebook with the kernel in ``<project>/notebooks``
(as Jupyter opens them) and fails on the first cell that raises.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import nbformat

logger = logging.getLogger(__name__)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
# Cell metadata written by Jupyter or nbclient while running, never by an author.
RUN_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def notebook_paths(folder: Path = NOTEBOOKS) -> list[Path]:
    """The notebooks of ``folder`` (checkpoints left out), sorted."""
    return sorted(p for p in folder.glob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def strip(nb: Any) -> bool:
    """Remove outputs, execution counts and run-time metadata in place; True if any."""
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code":
            if cell.get("outputs") or cell.get("execution_count") is not None:
                changed = True
            cell["outputs"] = []
            cell["execution_count"] = None
        for key in RUN_METADATA:
            changed |= cell.metadata.pop(key, None) is not None
    for key in ("widgets", "papermill"):
        changed |= nb.metadata.pop(key, None) is not None
    language = nb.metadata.get("language_info")
    if language and set(language) - {"name"}:  # the kernel's Python version: a diff per user
        nb.metadata["language_info"] = {"name": language.get("name", "python")}
        changed = True
    return changed


def unstripped(nb: Any) -> list[int]:
    """Indexes of the cells that still hold outputs, counts or run-time metadata."""
    dirty = []
    for i, cell in enumerate(nb.cells):
        ran = cell.cell_type == "code" and (
            bool(cell.get("outputs")) or cell.get("execution_count") is not None
        )
        if ran or any(key in cell.metadata for key in RUN_METADATA):
            dirty.append(i)
    return dirty


def strip_files(paths: list[Path]) -> list[Path]:
    """Strip each notebook file in place (written only when it changes); the changed ones."""
    changed = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if strip(nb):
            tmp = path.with_suffix(".ipynb.tmp")
            nbformat.write(nb, tmp)
            tmp.replace(path)  # never a half-written notebook
            changed.append(path)
    return changed


def execute(path: Path, cwd: Path, timeout: int = 600) -> Any:
    """Run a notebook headless with the kernel in ``cwd``; the executed notebook.

    Raises:
        nbclient.exceptions.CellExecutionError: When a cell raises (names the cell and the
            error).
    """
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return nb


def main(argv: list[str] | None = None) -> int:
    """``strip [paths]``, ``check [paths]`` or ``run <project folder>``."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = argv if argv is not None else sys.argv[1:]
    if not args or args[0] not in {"strip", "check", "run"}:
        logger.error("usage: python -m tools.notebooks strip|check [notebook ...] | run <project>")
        return 2
    command, rest = args[0], [Path(a) for a in args[1:]]
    if command == "run":
        if len(rest) != 1 or not (rest[0] / "notebooks").is_dir():
            logger.error("run needs one project folder that has notebooks/ (and a run's data)")
            return 2
        for path in notebook_paths(rest[0] / "notebooks"):
            logger.info("running %s", path)
            execute(path, path.parent)
        return 0
    paths = rest or notebook_paths()
    if command == "strip":
        for path in strip_files(paths):
            logger.info("stripped %s", path)
        return 0
    dirty = {p: unstripped(nbformat.read(p, as_version=4)) for p in paths}
    dirty = {p: cells for p, cells in dirty.items() if cells}
    for path, cells in dirty.items():
        logger.error("%s has outputs in cells %s: run `make notebooks-strip`", path, cells)
    return 1 if dirty else 0


if __name__ == "__main__":
    sys.exit(main())
