"""Shared test setup. Qt always runs offscreen here."""

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Tests run with --import-mode=importlib (so test files in different folders may share a
# name); this makes helper modules in tests/ (e.g. reference_optim) importable.
sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path, monkeypatch):
    """The app's data folder (autosaves) under tmp_path: no test, and no process a test
    starts, reads or writes the user's."""
    monkeypatch.setenv("GDVIZ_DATA_DIR", str(tmp_path / "gdviz-data"))


@pytest.fixture(autouse=True)
def _ui_language_reset():
    """The UI language is process-wide: a test that switches it puts it back."""
    from gdviz.core import i18n

    before = i18n._current["lang"]
    yield
    i18n._current["lang"] = before
