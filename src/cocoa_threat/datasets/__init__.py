"""Custom Kedro datasets of cocoa-threat."""

from cocoa_threat.datasets.figure import FigureDataset
from cocoa_threat.datasets.folder import FolderDataset
from cocoa_threat.datasets.image_folder import ImageFolderDataset
from cocoa_threat.datasets.optional import OptionalCSVDataset, OptionalJSONDataset
from cocoa_threat.datasets.raster import RasterDataset
from cocoa_threat.datasets.raw import RawDataset, RawStampDataset
from cocoa_threat.datasets.stac import StacCatalogDataset
from cocoa_threat.datasets.trained_model import TrainedModelDataset
from cocoa_threat.datasets.vector import VectorDataset
from cocoa_threat.datasets.webmap import WebMapDataset

__all__ = [
    "FigureDataset",
    "FolderDataset",
    "ImageFolderDataset",
    "OptionalCSVDataset",
    "OptionalJSONDataset",
    "RasterDataset",
    "RawDataset",
    "RawStampDataset",
    "StacCatalogDataset",
    "TrainedModelDataset",
    "VectorDataset",
    "WebMapDataset",
]
