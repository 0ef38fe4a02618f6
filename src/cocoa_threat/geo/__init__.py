"""Raster and vector helpers."""
