"""A local static STAC catalog written by a node (the demo region's tiles as items)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from kedro.io import AbstractDataset, DatasetError


class WritableCatalog(Protocol):
    """What a node returns: something that writes a catalog into a folder."""

    def write(self, root: Path, final: Path | None = None) -> Path: ...


class StacCatalogDataset(AbstractDataset[WritableCatalog, str]):
    """A folder holding a static STAC catalog (``stac/catalog.json``) and its GeoTIFFs.

    ``save`` writes the whole catalog into a hidden folder beside ``path`` and then
    swaps it in, so a reader never sees half a catalog; ``load`` gives the path of
    its ``catalog.json`` (what ``imagery.catalog_url`` takes). Example::

        demo_stac:
          type: cocoa_threat.datasets.StacCatalogDataset
          path: data/01_raw/demo_stac
    """

    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        """Create the dataset.

        Args:
            path: The catalog's folder.
            metadata: Free-form metadata (kedro-viz).
        """
        self._path = PurePosixPath(path)
        self.metadata = metadata

    def load(self) -> str:
        """The catalog's catalog.json."""
        catalog = Path(self._path) / "stac" / "catalog.json"
        if not catalog.is_file():
            raise DatasetError(f"No STAC catalog at {catalog}: run the node that writes it")
        return str(catalog)

    def save(self, data: WritableCatalog) -> None:
        """Write the catalog beside its folder, then swap it in."""
        final = Path(self._path)
        final.parent.mkdir(parents=True, exist_ok=True)
        work = final.with_name(f".{final.name}.writing-{os.getpid()}")
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        shutil.rmtree(work, ignore_errors=True)
        try:
            data.write(work, final)
            if final.exists():
                final.rename(old)
            work.rename(final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(old, ignore_errors=True)

    def _exists(self) -> bool:
        return (Path(self._path) / "stac" / "catalog.json").is_file()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}
