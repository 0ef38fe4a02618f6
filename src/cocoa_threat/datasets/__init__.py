"""Custom Kedro datasets of cocoa-threat."""

from cocoa_threat.datasets.geotiff import GeoTiffDataset

__all__ = ["GeoTiffDataset"]
