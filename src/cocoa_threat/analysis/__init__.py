"""Reusable analysis code (area estimation, ...)."""
