"""Errors of the app layer that ``cpc`` reports in one line with exit code 2.

Kept apart from :mod:`app.settings` so that the command line can catch them without importing
pydantic-settings for commands that never load settings (``cpc timeline`` with a built-in pack).
"""

from __future__ import annotations


class SettingsError(Exception):
    """A configuration that cannot be loaded; the message is one line, naming the variable."""
