"""Reporting helpers."""
