"""Lesson scenes, icons and translations shipped with gdviz."""
