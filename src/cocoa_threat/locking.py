"""A project-wide lock: one ``kedro run`` at a time writes under ``data/``.

Two runs at once would write the same outputs (and the same temporary files)
and could leave a mix of both. The lock is an exclusive ``flock`` on
``data/.lock``: the operating system releases it when the process ends, so a
killed run never leaves a stale lock. The file records who holds it, for the
message the second run gives.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


class ProjectBusyError(RuntimeError):
    """Another run holds the project's lock."""


class SeveralProcessesError(RuntimeError):
    """``kedro run`` was started as one of several processes (torchrun, srun, mpirun)."""


# What launchers set in each of the processes they start: how many there are.
LAUNCHER_SIZES = {
    "WORLD_SIZE": "torchrun, Lightning or Kubeflow",
    "SLURM_STEP_NUM_TASKS": "srun",
    "OMPI_COMM_WORLD_SIZE": "Open MPI's mpirun",
    "PMI_SIZE": "mpirun",
}


def refuse_several_processes(environ: Mapping[str, str] = os.environ) -> None:
    """Stop a run that is one of several processes of one launch: each would run every node.

    Raises:
        SeveralProcessesError: Naming the variable, and how to train on several devices.
    """
    for name, launcher in LAUNCHER_SIZES.items():
        size = environ.get(name, "")
        if size.isdigit() and int(size) > 1:
            raise SeveralProcessesError(
                f"kedro run was started as one of {size} processes ({name}={size}, set by "
                f"{launcher}): each would run the whole pipeline and write the same outputs. "
                f"Start kedro run once; to train on several devices of this machine set "
                f"<model>.model.trainer.devices: <n> and strategy: ddp (the training node "
                f"spawns the DDP processes itself). Training on several nodes from kedro run "
                f"is not supported (docs/scaling.md)."
            )


class ProjectLock:
    """An exclusive lock on a project's ``data/`` folder.

    Args:
        path: The lock file (``<project>/data/.lock``).
        wait_s: How long to wait for another run to finish before giving up.
    """

    def __init__(self, path: Path, wait_s: float = 0.0) -> None:
        """Describe the lock (nothing is taken yet)."""
        self.path = Path(path)
        self.wait_s = wait_s
        self._handle: IO[str] | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._handle is not None

    def _holder(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, json.JSONDecodeError):
            return {}

    def acquire(self, what: str) -> None:
        """Take the lock, waiting up to ``wait_s`` seconds.

        Args:
            what: What this run is (recorded for whoever waits on it).

        Raises:
            ProjectBusyError: Naming the run that holds it and how to go on.
        """
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held until release()
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.close()
                    holder = self._holder()
                    raise ProjectBusyError(
                        f"Another kedro run is writing in {self.path.parent} (pid "
                        f"{holder.get('pid', '?')}, {holder.get('what', 'a run')}, since "
                        f"{holder.get('since', '?')}). Two runs at once would overwrite each "
                        f"other's outputs: wait for it to finish, or set "
                        f"COCOA_THREAT_LOCK_WAIT_S to wait for it (seconds)."
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        handle.write(json.dumps({"pid": os.getpid(), "what": what, "since": since}))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Give the lock back (a no-op if not held)."""
        if self._handle is None:
            return
        import fcntl

        self._handle.seek(0)
        self._handle.truncate()
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
        self._handle = None


def sweep_partials(folder: Path) -> list[Path]:
    """Remove what killed runs left half-written under ``folder``; return what was removed.

    Every temporary file or folder the project writes is hidden and has
    ``.partial`` in its name; with the project lock held, no run is writing
    one now, so any that exist are leftovers. One kind is not thrown away: a
    raw input moved aside (``.<name>.<token>.partial-old``) by a run killed
    before the new one took its place is put back.
    """
    import re

    moved_aside = re.compile(r"^\.(.+)\.[0-9a-f]{12}\.partial-old$")

    found = sorted(
        (p for p in Path(folder).rglob(".*") if ".partial" in p.name),
        key=lambda p: len(p.parts),
    )
    removed: list[Path] = []
    for path in found:
        if any(parent in removed for parent in path.parents):
            continue
        if (match := moved_aside.match(path.name)) and not (path.parent / match[1]).exists():
            os.replace(path, path.parent / match[1])  # the only copy of a raw input
            continue
        remove_path(path)
        removed.append(path)
    return removed


def remove_path(path: Path) -> None:
    """Delete a file, link or folder tree, if there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def replaced_whole(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` that takes its place whole when the block ends.

    Write the new file or folder at the path given. When the block succeeds it
    replaces ``target``: a file at once, a folder by moving the old one aside
    first, under a name :func:`sweep_partials` puts back if the run is killed
    between the two moves. When the block or the swap fails, ``target`` stays
    as it was and nothing half-written is left.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]  # unique: concurrent writers never share a temporary path
    # The suffix is kept so that writers' drivers see the right file type.
    tmp = target.with_name(f".{target.stem}.{token}.partial{target.suffix}")
    old = target.with_name(f".{target.name}.{token}.partial-old")
    try:
        yield tmp
        if tmp.is_dir() and target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
    finally:
        if old.exists() and not target.exists():  # the new one did not take its place
            os.replace(old, target)
        for leftover in (tmp, old):
            remove_path(leftover)


def lock_supported() -> bool:
    """Whether this platform has ``flock`` (POSIX)."""
    return sys.platform != "win32"
