"""What raw inputs are, as nodes and the acquisition pipelines see them (no Kedro in here).

* :class:`RawProduct`: what an acquisition node (the demo generator, the Hub
  download) returns for the catalog's :class:`~cocoa_threat.datasets.RawDataset`
  to write: the data, or the files to place, and the stamp recorded beside it;
  :data:`UNCHANGED` when the input on disk is up to date (nothing is written);
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
        path: The path that was looked for.
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
class RawProduct:
    """A raw input an acquisition node made, for its raw dataset to write.

    Attributes:
        stamp: Recorded beside the input: at least its ``fingerprint`` (what it
            was made from; an input with the same fingerprint is up to date).
        data: What the raw dataset's inner dataset saves (a dict of partitions
            for a folder, a raster, a table, a GeoDataFrame).
        files: Or files to place as they are (relative path -> existing file),
            e.g. a download from a cache: linked, or copied, byte for byte.
    """

    stamp: dict[str, Any]
    data: Any = None
    files: dict[str, Path] = field(default_factory=dict)


class _Unchanged:
    """The raw input on disk is up to date: its raw dataset writes nothing."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()


def fingerprint_of(stamp: dict[str, Any] | None) -> str | None:
    """The fingerprint recorded in a raw input's stamp (None: no stamp)."""
    return None if stamp is None else stamp.get("fingerprint")
