"""Shared test setup. Qt always runs offscreen here."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
