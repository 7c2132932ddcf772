"""Shared test setup. Qt always runs offscreen here."""

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Tests run with --import-mode=importlib (so test files in different folders may share a
# name); this makes helper modules in tests/ (e.g. reference_optim) importable.
sys.path.insert(0, os.path.dirname(__file__))
