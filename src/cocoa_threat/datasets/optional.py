"""JSON results that may not exist yet (a model that was not trained), loaded as None."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro_datasets.json import JSONDataset


class OptionalJSONDataset(JSONDataset):
    """``json.JSONDataset`` whose ``load`` gives None where the file does not exist.

    For per-model results that nodes gather over every model of
    ``training.models``, trained or not (e.g. ``{model}.metrics``): the nodes
    then work with the models that exist.
    """

    def load(self) -> Any:  # type: ignore[override]
        """The JSON content, or None."""
        if not Path(str(self._get_load_path())).is_file():
            return None
        return super().load()
