"""Custom Kedro datasets of cocoa-threat."""

from cocoa_threat.datasets.geotiff import GeoTiffDataset
from cocoa_threat.datasets.torch_state_dict import TorchStateDictDataset

__all__ = ["GeoTiffDataset", "TorchStateDictDataset"]
