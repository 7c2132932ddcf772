"""Control panels: they write to the session and follow it."""
