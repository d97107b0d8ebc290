"""Counting the calls of a Cython kernel module's functions, for tests that check a
kernel path is really taken."""


def counted_calls(monkeypatch, module, names, device):
    """The body of a fixture: counts the calls of ``module.<name>`` for each of
    ``names``, yields the counts by name, and at teardown checks that a backend other
    than the CPU (which has no such kernels) made none."""
    calls = dict.fromkeys(names, 0)
    for name in calls:
        def counted(*args, _fn=getattr(module, name), _name=name):
            calls[_name] += 1
            return _fn(*args)
        monkeypatch.setattr(module, name, counted)
    yield calls
    if device != "cpu":
        assert not any(calls.values()), calls
