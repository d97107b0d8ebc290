"""Memory: training-style loops keep RSS flat, and autograd graphs are freed by reference
counting alone (no reference cycles), so they never wait for the cyclic collector."""

import gc
import os
import weakref
from contextlib import nullcontext

import numpy as np
import pytest

import ember
from ember.autograd.graph import Node

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss():
    """Resident set size in bytes (Linux /proc; skips elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except OSError:
        pytest.skip("needs /proc/self/statm")


class _NoCycleCollector:
    """Turn the cyclic garbage collector off: whatever is freed is freed by refcounts."""

    def __enter__(self):
        gc.collect()
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.was_enabled:
            gc.enable()


def _live_nodes():
    return sum(1 for o in gc.get_objects() if issubclass(type(o), Node))


def _step(w, b, x, y, lr=1e-3):
    """One forward + backward + SGD update; returns the loss node (weakly) for checks."""
    h = (x @ w + b).tanh()
    loss = ((h - y) ** 2).mean() + (w * w).sum() * 1e-4
    ref = weakref.ref(loss.grad_fn)
    inner = weakref.ref(h.grad_fn)
    loss.backward()
    with ember.no_grad():
        w -= lr * w.grad
        b.sub_(lr * b.grad)
    w.grad = None
    b.grad.zero_()
    return loss.item(), ref, inner


def test_training_loop_rss_flat_and_graphs_freed_without_gc():
    rng = np.random.default_rng(0)
    w = ember.tensor(rng.standard_normal((8, 8)) * 0.1, dtype=ember.float32, requires_grad=True)
    b = ember.zeros(8, requires_grad=True)
    x = ember.tensor(rng.standard_normal((8, 8)), dtype=ember.float32)
    y = ember.tensor(rng.standard_normal((8, 8)), dtype=ember.float32)
    with _NoCycleCollector():
        for step in range(1, 10_001):
            loss, ref, inner = _step(w, b, x, y)
            # the whole graph is gone as soon as the last tensor of the step is
            assert ref() is None and inner() is None, f"graph kept alive at step {step}"
            if step == 100:
                rss_100 = _rss()
                nodes_100 = _live_nodes()
        rss_end = _rss()
        nodes_end = _live_nodes()
    assert w.is_leaf and w.requires_grad and b.is_leaf
    assert np.isfinite(loss)
    assert nodes_end <= nodes_100, f"live graph nodes grew: {nodes_100} -> {nodes_end}"
    growth = (rss_end - rss_100) / rss_100
    assert growth < 0.05, f"RSS grew {growth:.1%}: {rss_100 / 2**20:.1f} -> {rss_end / 2**20:.1f} MiB"


def test_forward_only_graph_freed_without_backward():
    x = ember.ones(4, 4, requires_grad=True)
    with _NoCycleCollector():
        y = (x.exp() * 2).sum()
        ref = weakref.ref(y.grad_fn)
        del y
        assert ref() is None


def test_retained_graph_freed_when_output_dropped():
    x = ember.ones(4, 4, requires_grad=True)
    with _NoCycleCollector():
        y = (x.sigmoid() * x).sum()
        y.backward(retain_graph=True)
        ref = weakref.ref(y.grad_fn)
        del y
        assert ref() is None


def test_autograd_grad_with_create_graph_has_no_cycle():
    with _NoCycleCollector():
        x = ember.ones(3, requires_grad=True)
        xref = weakref.ref(x)
        (g,) = ember.autograd.grad((x ** 3).sum(), x, create_graph=True)
        gref = weakref.ref(g.grad_fn)
        (gg,) = ember.autograd.grad(g.sum(), x)
        assert gg.tolist() == [6.0, 6.0, 6.0]
        del x, g
        assert xref() is None and gref() is None


def test_backward_create_graph_cycle_broken_by_resetting_grad():
    # as torch (which warns about it): x.grad's graph saves x, a cycle until .grad is reset
    with _NoCycleCollector():
        x = ember.ones(3, requires_grad=True)
        xref = weakref.ref(x)
        warns = pytest.warns(UserWarning, match="reference cycle") if not _warned() else nullcontext()
        with warns:
            (x ** 3).sum().backward(create_graph=True)
        gref = weakref.ref(x.grad.grad_fn)
        x.grad = None
        del x
        assert xref() is None and gref() is None


def _warned():
    from ember.autograd import graph

    return graph._CYCLE_WARNED


def test_leaf_with_hooks_and_retain_grad_is_freed():
    with _NoCycleCollector():
        x = ember.ones(3, requires_grad=True)
        xref = weakref.ref(x)
        x.register_hook(lambda g: g * 2)
        x.register_post_accumulate_grad_hook(lambda t: None)
        y = x * 2
        y.retain_grad()
        yref = weakref.ref(y)
        (y * y).sum().backward()
        assert y.grad is not None
        del x, y
        assert xref() is None and yref() is None


def test_custom_function_graph_is_freed():
    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x * x
            ctx.save_for_backward(x, out)
            return out

        @staticmethod
        def backward(ctx, g):
            x, _ = ctx.saved_tensors
            return 2 * x * g

    x = ember.ones(3, requires_grad=True)
    with _NoCycleCollector():
        y = Square.apply(x)
        ref = weakref.ref(y.grad_fn)
        y.sum().backward()
        del y
        assert ref() is None
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_inplace_history_is_freed():
    x = ember.ones(3, requires_grad=True)
    with _NoCycleCollector():
        y = x * 2
        y.add_(1).mul_(3)
        ref = weakref.ref(y.grad_fn)
        y.sum().backward()
        del y
        assert ref() is None


def test_freed_graph_releases_saved_arrays():
    # after backward (no retain_graph) the nodes drop their saved arrays even while
    # the output tensor (and so the node) is still alive
    x = ember.ones(256, 256, requires_grad=True)
    y = x.exp()
    data_ref = weakref.ref(y.grad_fn)
    y.sum().backward()
    node = data_ref()
    assert node is not None and node._saved is None and node._saved_out is None


def test_inplace_arithmetic_with_a_parameter_operand_writes_straight_into_memory(monkeypatch):
    """``out.add_(bias)`` with a Parameter (Linear's forward) runs the ufunc into out's
    own memory, without the temporary result and its copy; recorded, it still builds
    the graph that reaches the Parameter."""
    from ember._ops import inplace

    bias = ember.nn.Parameter(ember.tensor([1.0, 2.0, 3.0]))
    out = ember.zeros(2, 3)
    memory = out._data
    monkeypatch.setattr(inplace, "write_result", None)     # the general path would fail
    with ember.no_grad():
        out.add_(bias)
    assert out._data is memory and out.tolist() == [[1.0, 2.0, 3.0]] * 2
    monkeypatch.undo()
    y = ember.zeros(2, 3).mul(1.0)
    y.add_(bias)
    y.sum().backward()
    assert bias.grad.tolist() == [2.0, 2.0, 2.0]
