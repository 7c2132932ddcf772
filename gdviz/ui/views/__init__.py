"""Views: they draw the session (the window and export share them)."""
