"""Figures: maps and charts drawn from the catalog's rasters and tables."""
