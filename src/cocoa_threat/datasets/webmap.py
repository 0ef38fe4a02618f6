"""A Kedro dataset for the interactive map: the HTML page and the tile folder beside it."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path, PurePosixPath
from typing import Any, NewType

from kedro.io import AbstractDataset, DatasetError

from cocoa_threat.rendering.webmap import WebMap

HTMLPreview = NewType("HTMLPreview", str)


class WebMapDataset(AbstractDataset[WebMap, str]):
    """``map.html`` and, for large scenes, its tiles in ``<stem>_files/`` beside it.

    Saving writes both under temporary names and renames them into place, the
    old tiles removed, so the page never refers to tiles of another run.
    ``load`` gives the page's HTML. Example::

        web_map:
          type: cocoa_threat.datasets.WebMapDataset
          filepath: data/08_reporting/map.html
    """

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        """Create the dataset.

        Args:
            filepath: The HTML page.
            metadata: Free-form metadata (kedro-viz).
        """
        self._filepath = PurePosixPath(filepath)
        self.metadata = metadata

    def load(self) -> str:
        """The page's HTML."""
        path = Path(self._filepath)
        if not path.is_file():
            raise DatasetError(f"{path} does not exist; run `kedro run --pipeline=reporting`")
        return path.read_text(encoding="utf-8")

    def save(self, data: WebMap) -> None:
        """Write the page and its tiles (atomically)."""
        if not isinstance(data, WebMap):
            raise DatasetError(f"WebMapDataset {self._filepath} expects a WebMap")
        page = Path(self._filepath)
        page.parent.mkdir(parents=True, exist_ok=True)
        token, name = uuid.uuid4().hex[:12], data.files_folder
        folder = page.parent / name
        tmp_folder = page.parent / f".{name}.{token}.partial"
        tmp_page = page.parent / f".{page.name}.{token}.partial"
        try:
            for file, content in data.files.items():
                relative = PurePosixPath(file)
                if relative.parts[0] != name or ".." in relative.parts:
                    raise DatasetError(f"tile {relative} is not inside {name}/")
                target = tmp_folder / Path(*relative.parts[1:])
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            tmp_page.write_text(data.html, encoding="utf-8")
            if folder.exists():
                shutil.rmtree(folder)
            if data.files:
                os.replace(tmp_folder, folder)
            os.replace(tmp_page, page)
        finally:
            shutil.rmtree(tmp_folder, ignore_errors=True)
            tmp_page.unlink(missing_ok=True)

    def preview(self) -> HTMLPreview:
        """What kedro-viz shows: the map's layers (the page itself needs a browser)."""
        html = self.load()
        import re

        names = re.findall(r'"name":"([^"]+)"', html)
        items = "".join(f"<li>{n}</li>" for n in names)
        return HTMLPreview(
            f"<p>Interactive map <code>{self._filepath}</code>, open it in a browser "
            f"(offline). Layers:</p><ul>{items}</ul>"
        )

    def _exists(self) -> bool:
        return Path(self._filepath).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
