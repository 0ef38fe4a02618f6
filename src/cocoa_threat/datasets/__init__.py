"""Custom Kedro datasets of cocoa-threat."""

from cocoa_threat.datasets.figure import FigureDataset
from cocoa_threat.datasets.geotiff import GeoTiffDataset
from cocoa_threat.datasets.raster import RasterDataset
from cocoa_threat.datasets.raw import RawDataset
from cocoa_threat.datasets.torch_state_dict import TorchStateDictDataset
from cocoa_threat.datasets.trained_models import TrainedModelsDataset
from cocoa_threat.datasets.vector import VectorDataset

__all__ = [
    "FigureDataset",
    "GeoTiffDataset",
    "RasterDataset",
    "RawDataset",
    "TorchStateDictDataset",
    "TrainedModelsDataset",
    "VectorDataset",
]
