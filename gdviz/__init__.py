"""gdviz: watch neural networks learn by gradient descent.

This module holds the version only; it imports neither Qt nor numba.
"""

__version__ = "0.1.0"


def resources_dir():
    """Path of the shipped ``resources/`` folder (``gdviz.resources`` when installed)."""
    from pathlib import Path

    try:
        from importlib.resources import files

        p = Path(str(files("gdviz.resources")))
        if (p / "scenes").is_dir():
            return p
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "resources"
