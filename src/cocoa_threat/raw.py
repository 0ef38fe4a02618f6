"""What raw inputs are, as nodes and the demo generator see them (no Kedro in here).

* :class:`RawInput`: what the acquisition node hands to the catalog's
  :class:`~cocoa_threat.datasets.RawDataset` (an input the user provides, or
  one the project generates or downloads);
* :class:`RawFolder`: a raw folder as loaded (its path and a loader per file);
* :class:`MissingRawInput`: what loading an absent raw input gives, so that a
  pipeline that does not need it still runs; :func:`require` turns it into a
  clear error where it is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class MissingRawInput:
    """What loading a raw input that is not on disk gives.

    Attributes:
        name: The path that was looked for.
        hint: How to get it (from the catalog entry's ``hint``).
    """

    path: str
    hint: str = ""

    def error(self, what: str = "") -> FileNotFoundError:
        """The error to raise where the input is needed."""
        lead = f"{what}: " if what else ""
        return FileNotFoundError(
            f"{lead}{self.path} does not exist. {self.hint}".strip()
            + " (the path is set in conf/<env>/globals.yml and catalog.yml)"
        )


@dataclass(frozen=True)
class RawFolder:
    """A raw folder of files, as loaded: its path and a loader per file.

    Attributes:
        path: The folder (for messages).
        partitions: Partition id (path under the folder, without suffix) -> loader.
        suffix: The files' suffix (e.g. ``.tif``).
    """

    path: str
    partitions: dict[str, Callable[[], Any]]
    suffix: str = ""

    def file(self, key: str) -> str:
        """The path of a partition, for messages."""
        return f"{self.path}/{key}{self.suffix}"


def require(value: Any, what: str = "") -> Any:
    """``value``, or raise the missing input's error if it is a :class:`MissingRawInput`."""
    if isinstance(value, MissingRawInput):
        raise value.error(what)
    return value


@dataclass(frozen=True)
class RawInput:
    """What the acquisition node hands to a :class:`RawDataset` to save.

    Attributes:
        kind: ``existing`` (provided by the user) or ``generated``.
        required: For ``existing``: fail if the input is missing.
        fingerprint: For ``generated``: canonical description of what would be
            written; an input with the same fingerprint is not rewritten.
        write: For ``generated``: writes the input to the path it is given (a
            file, or a folder it creates).
        force: Rewrite even if the fingerprint matches.
        provenance: Extra facts recorded in the stamp beside the input.
    """

    kind: str
    required: bool = True
    fingerprint: str = ""
    write: Callable[[Path], dict[str, Any] | None] | None = field(default=None, repr=False)
    force: bool = False
    provenance: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def existing(cls, required: bool = True) -> RawInput:
        """An input the user provides; nothing is written."""
        return cls(kind="existing", required=required)

    @classmethod
    def generated(
        cls,
        fingerprint: str,
        write: Callable[[Path], dict[str, Any] | None],
        force: bool = False,
        provenance: dict[str, Any] | None = None,
    ) -> RawInput:
        """An input made by the project (demo generator, download)."""
        return cls(
            kind="generated",
            fingerprint=fingerprint,
            write=write,
            force=force,
            provenance=dict(provenance or {}),
        )
