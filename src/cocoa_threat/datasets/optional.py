"""Results and user files that may not exist (a model not trained, a sample not labelled yet),
loaded as None."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import CSVDataset


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


class OptionalCSVDataset(CSVDataset):
    """``pandas.CSVDataset`` whose ``load`` gives None where the file does not exist.

    For a file the user may or may not have made (e.g. a labelled reference
    sample, ``reference_labels``): the node then says what it did without it.
    """

    def load(self) -> Any:  # type: ignore[override]
        """The table, or None."""
        if not Path(str(self._get_load_path())).is_file():
            return None
        return super().load()
