"""Raw inputs: read through the catalog, written only by acquisition, never rewritten unchanged.

Every raw input of the project (the SmallMinesDS tiles, the cocoa-probability
layer, district boundaries, the mercury survey, published split files) is a
:class:`RawDataset` in ``conf/<env>/catalog.yml``. Loading it gives what its
inner dataset gives (e.g. a ``PartitionedDataset`` of rasters); a missing file
gives a :class:`MissingRawInput` that says where to get it, so a pipeline that
does not need the input still runs.

Only the acquisition pipelines (``demo``, ``download``) save raw inputs, with a
:class:`~cocoa_threat.raw.RawProduct` (the data or files to place, and a stamp
with the fingerprint of what they were made from) or
:data:`~cocoa_threat.raw.UNCHANGED`. The dataset only writes: into a unique
temporary path renamed into place, so an interrupted or concurrent run never
leaves a half-written input, with the stamp beside it, which
:class:`RawStampDataset` reads back for the next run's plan.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from cocoa_threat.locking import replaced_whole
from cocoa_threat.raw import UNCHANGED, MissingRawInput, RawFolder, RawProduct

logger = logging.getLogger(__name__)


def stamp_path(path: Path) -> Path:
    """Where the stamp of a generated input is kept (inside a folder, beside a file)."""
    return path / ".stamp.json" if path.is_dir() else path.with_name(f".{path.name}.stamp.json")


def read_stamp(path: Path) -> dict[str, Any] | None:
    """The stamp of a generated input, or None."""
    stamp = stamp_path(path)
    if not (path.exists() and stamp.is_file()):
        return None
    try:
        return json.loads(stamp.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _inner_path_key(dataset_type: Any) -> str:
    cls = dataset_type
    if isinstance(dataset_type, str):
        from kedro.io.core import parse_dataset_definition

        cls, _ = parse_dataset_definition({"type": dataset_type})
    params = inspect.signature(cls.__init__).parameters
    return "path" if "path" in params and "filepath" not in params else "filepath"


def _caused_by(exc: BaseException | None, kind: type[BaseException]) -> BaseException | None:
    """The first exception of type ``kind`` in ``exc``'s chain of causes, if any."""
    while exc is not None:
        if isinstance(exc, kind):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


class RawDataset(AbstractDataset[RawProduct, Any]):
    """A raw input: loaded as its inner dataset, saved only by acquisition.

    Example::

        cocoa_layer_raw:
          type: cocoa_threat.datasets.RawDataset
          filepath: ${globals:raw.cocoa_layer}
          dataset: cocoa_threat.datasets.RasterDataset
          hint: Get a cocoa-probability map (e.g. Kalischek et al. 2023) ...
    """

    def __init__(
        self,
        filepath: str,
        dataset: str | dict[str, Any],
        hint: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            filepath: The raw file or folder.
            dataset: The inner dataset type (or config without its path), used to load.
            hint: How to get the input when it is missing (shown in errors).
            metadata: Free-form metadata (kedro-viz).
        """
        self._filepath = PurePosixPath(filepath)
        self._config = {"type": dataset} if isinstance(dataset, str) else dict(dataset)
        self._key = _inner_path_key(self._config["type"])
        self._inner = AbstractDataset.from_config(
            f"raw:{filepath}", {**self._config, self._key: str(filepath)}
        )
        self._hint = hint
        self.metadata = metadata

    @property
    def path(self) -> Path:
        """The raw file or folder."""
        return Path(self._filepath)

    def load(self) -> Any:
        """The inner dataset's data, or a :class:`MissingRawInput` if the input is absent."""
        if not self.path.exists():
            return MissingRawInput(str(self._filepath), self._hint)
        try:
            data = self._inner.load()
        except Exception as exc:
            if not _caused_by(exc, UnicodeDecodeError):
                raise
            raise DatasetError(
                f"{self._filepath} is not UTF-8 text ({_caused_by(exc, UnicodeDecodeError)}). "
                f"Save it as UTF-8, or give its encoding in the catalog entry, e.g. "
                f"dataset: {{type: pandas.CSVDataset, load_args: {{encoding: latin-1}}}} "
                f"(conf/<env>/catalog.yml)"
            ) from exc
        if self.path.is_dir():
            suffix = getattr(self._inner, "_filename_suffix", "")
            return RawFolder(str(self._filepath), dict(data), suffix)
        return data

    def save(self, data: RawProduct | object) -> None:
        """Write a product made by an acquisition node (``UNCHANGED``: nothing)."""
        if data is UNCHANGED:
            logger.info("%s is up to date; not rewritten", self._filepath)
            return
        if not isinstance(data, RawProduct):
            raise DatasetError(
                f"{self._filepath} is a raw input: only the acquisition pipelines write it "
                f"(got {type(data).__name__})"
            )
        self._write(data)

    def _write_into(self, tmp: Path, product: RawProduct) -> None:
        if product.files:
            for relative, source in product.files.items():
                place_file(Path(source), tmp / relative)
            return
        inner = AbstractDataset.from_config(f"raw:{tmp}", {**self._config, self._key: str(tmp)})
        inner.save(product.data)

    def _write(self, product: RawProduct) -> None:
        target = self.path
        with replaced_whole(target) as tmp:
            self._write_into(tmp, product)
            if not tmp.exists():
                raise DatasetError(f"Nothing was written for {self._filepath}")
            stamp = json.dumps(product.stamp, indent=2, sort_keys=True, default=str)
            if tmp.is_dir():  # the stamp travels inside the folder
                (tmp / ".stamp.json").write_text(stamp)
        if not target.is_dir():
            with replaced_whole(stamp_path(target)) as stamp_tmp:
                stamp_tmp.write_text(stamp)
        logger.info("Wrote %s", self._filepath)

    def _exists(self) -> bool:
        return self.path.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "dataset": self._inner._describe()}


def place_file(source: Path, target: Path) -> None:
    """Put a file at ``target`` byte for byte: a hard link where it can, else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source.resolve(), target)
    except OSError:
        shutil.copyfile(source, target)


class RawStampDataset(AbstractDataset[dict[str, Any], dict[str, Any] | None]):
    """The stamp of a raw input (what it was made from), for the acquisition's plan.

    ``load`` gives the stamp recorded beside the raw input at ``filepath``, or None
    when the input or its stamp is missing (it must then be made). Read-only: the
    raw input's own :class:`RawDataset` writes the stamp with it. Example::

        raw_tiles_stamp:
          type: cocoa_threat.datasets.RawStampDataset
          filepath: ${globals:raw.tiles}
    """

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        """Create the dataset.

        Args:
            filepath: The raw input (file or folder) whose stamp is read.
            metadata: Free-form metadata (kedro-viz).
        """
        self._filepath = PurePosixPath(filepath)
        self.metadata = metadata

    def load(self) -> dict[str, Any] | None:
        """The stamp, or None."""
        return read_stamp(Path(self._filepath))

    def save(self, data: dict[str, Any]) -> None:
        """Refused: a stamp is written with its raw input."""
        raise DatasetError(f"The stamp of {self._filepath} is written by its raw input only")

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
