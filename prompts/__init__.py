"""Prompt templates (jinja2), one per benchmark, verbatim from the reports' appendices."""
