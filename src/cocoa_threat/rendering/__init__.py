"""Rendering results for people: tables and the report (a Jinja2 template)."""
