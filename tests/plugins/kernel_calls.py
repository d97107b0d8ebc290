"""Counting the calls of a Cython kernel module's functions, for tests that check a
kernel path is really taken; recording the arguments a backend's kernel gets, for
tests that replay a family's real calls on another kernel."""


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


def recorded_calls(monkeypatch, op, backend="cpu"):
    """The calls ``(args, kwargs)`` that ``op``'s kernel on ``backend`` gets while the
    test runs, appended as they come (so a test sees the arguments the family really
    passes). Array arguments are copied when recorded: the family may reuse them as
    workspace afterwards."""
    from ember.backend import REGISTRY

    table = REGISTRY.get(backend).kernels
    fn = table[op]
    calls = []

    def copied(a):
        return a.copy() if hasattr(a, "copy") and hasattr(a, "dtype") else a

    def recording(*args, **kwargs):
        calls.append((tuple(copied(a) for a in args), {k: copied(a) for k, a in kwargs.items()}))
        return fn(*args, **kwargs)

    monkeypatch.setitem(table, op, recording)
    return calls
