"""A spy on one method of an object: records each call and still makes it."""


class Spy:
    """``calls`` gets (args, kwargs) of every call of ``obj.name``; ``orig`` is the real one."""

    def __init__(self, monkeypatch, obj, name):
        self.calls = []
        self.orig = getattr(obj, name)

        def wrapper(*a, **k):
            self.calls.append((a, k))
            return self.orig(*a, **k)

        monkeypatch.setattr(obj, name, wrapper)
