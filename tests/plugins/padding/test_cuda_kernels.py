"""The cuda backend's padding kernels (plugins/padding/cuda.py) compute what the
generic kernels compute, built with the CPU stand-in for ``cupy``
(tests/cuda_emulator.py).

The calls ``F.pad`` really makes in every mode (forward, backward and double
backward, on the grids of the family's torch tests) are recorded on the CPU
backend and replayed on both kernels; then other dtypes (the forward kernels move
elements of any width), strided and empty arrays, and the calls left to the
generic kernels.
"""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from ember.backend import REGISTRY
from ember.plugins.padding import cuda

from ...cuda_emulator import generic, on_device
from ..kernel_calls import recorded_calls
from .test_padding import CONSTANT_GRID, GRID, MODES

FLOATS = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-6, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-14)}
OPS = tuple(cuda.KERNELS)


def random(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def compare(op, x, spec):
    got, want = on_device(op)(x, spec), generic(op)(x, spec)
    assert got.shape == want.shape and got.dtype == want.dtype
    if op.endswith("_adjoint") and op != "padding.constant_adjoint":
        np.testing.assert_allclose(got, want, **TOL[want.dtype.type])
    else:  # copies: the same bits
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


def accepts(op, *args):
    return REGISTRY.kernels[(op, "cuda")].accepts(*args)


def _trimmed(pad):
    """The padded axes of a ``pad`` tuple, without the unpadded outermost ones."""
    pairs = [pad[i:i + 2] for i in range(0, len(pad), 2)][::-1]
    while len(pairs) > 1 and not any(pairs[0]):
        pairs = pairs[1:]
    return pairs


def record(monkeypatch):
    recorded = {op: recorded_calls(monkeypatch, op) for op in OPS}
    return lambda: [(op, args) for op, calls in recorded.items() for args, _ in calls]


def pad_to_second_order(x, pad, mode, value=None):
    """``F.pad`` of ``x``, its gradient and the gradient of that gradient (with respect
    to the incoming gradient): every kernel of the mode's pair runs."""
    dtype = x.dtype
    x = ember.tensor(x, requires_grad=True)
    y = EF.pad(x, pad, mode, value)
    v = ember.tensor(random(tuple(y.shape), dtype, 1), requires_grad=True)
    grad, = ember.autograd.grad((y * v).sum(), x, create_graph=True)
    (grad * ember.tensor(random(tuple(x.shape), dtype, 2))).sum().backward()


def replay(calls, ops):
    """Compare the kernels on the recorded calls of ``ops`` the cuda kernels take (the
    others go to the generic kernel); return how many."""
    assert {op for op, _ in calls} == set(ops)
    taken = [(op, args) for op, args in calls if accepts(op, *args)]
    for op, args in taken:
        compare(op, *args)
    return len(taken)


def _padded(mode, shape, pad):
    """True when ``F.pad`` takes ``pad`` of ``shape`` in ``mode`` (reflect refuses a pad
    as wide as the dim, circular one that wraps around more than once)."""
    try:
        EF.pad(ember.zeros(*shape), pad, mode)
    except RuntimeError:
        return False
    return True


CALLS = [(mode, shape, pad) for mode in MODES
         for shape, pad in GRID + [((2, 3, 4), (6, 7)), ((2, 3, 4, 5), (0, 9, 5, 0)), ((1, 2, 4), (4, 4)),
                                   ((1, 2, 4), (-1, 1)), ((1, 2, 4), (2, -2))]
         if _padded(mode, shape, pad)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode,shape,pad", CALLS)
def test_the_calls_pad_makes(mode, shape, pad, dtype, monkeypatch):
    calls = record(monkeypatch)
    pad_to_second_order(random(shape, dtype), pad, mode)
    assert replay(calls(), [f"padding.{mode}", f"padding.{mode}_adjoint"]) == len(calls())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,pad,value", CONSTANT_GRID + [((1, 2, 3, 4, 5), (1, 1, 0, 0, 0, 0, 0, 0, 0, 0), 1.0)])
def test_the_calls_constant_pad_makes(shape, pad, value, dtype, monkeypatch):
    calls = record(monkeypatch)
    pad_to_second_order(random(shape, dtype), pad, "constant", value)
    taken = replay(calls(), ["padding.constant", "padding.constant_adjoint"])
    assert taken == (len(calls()) if 1 <= len(_trimmed(pad)) <= 3 else 0)


@pytest.mark.parametrize("mode", MODES + ["constant"])
@pytest.mark.parametrize("view", ["transpose", "step"])
def test_strided_inputs(mode, view):
    x = random((2, 3, 6, 5), np.float32).transpose(0, 1, 3, 2) if view == "transpose" else \
        random((2, 5, 4, 7), np.float32)[:, ::2, :, 1::2]
    spec = tuple((n, lo, hi) for n, lo, hi in zip(x.shape[-2:], (2, 1), (1, 2)))
    compare(f"padding.{mode}", x, spec)
    g = random(x.shape[:2] + tuple(n + lo + hi for n, lo, hi in spec), np.float32, 1)[..., ::-1]
    compare(f"padding.{mode}_adjoint", g, spec)


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint8, np.int16, np.int32, np.int64, np.float16,
                                   np.complex64])
@pytest.mark.parametrize("mode", MODES + ["constant"])
def test_every_width_is_moved(mode, dtype):
    x = (np.arange(120).reshape(2, 3, 4, 5) % 7 - 3).astype(dtype)
    compare(f"padding.{mode}", x, ((4, 2, 1), (5, 1, 3)))
    if mode == "constant":
        compare("padding.constant_adjoint", x, ((4, -1, 1), (5, 2, -2)))


@pytest.mark.parametrize("mode", MODES)
def test_empty_batches_and_outputs(mode):
    compare(f"padding.{mode}", np.zeros((0, 2, 3, 4)), ((3, 1, 1), (4, 1, 1)))
    compare(f"padding.{mode}_adjoint", np.zeros((0, 2, 5, 6)), ((3, 1, 1), (4, 1, 1)))
    if mode != "reflect":
        compare(f"padding.{mode}", np.zeros((2, 3, 4)), ((4, -2, -2),))
        compare(f"padding.{mode}_adjoint", np.zeros((2, 3, 0)), ((4, -2, -2),))


def test_a_map_reading_outside_its_input_is_refused():
    with pytest.raises(ValueError, match="reads outside"):
        cuda.packed_table("reflect", 3, 5, 0)


def test_the_tables_list_each_inputs_readers_interior_first():
    table = cuda.packed_table("replicate", 3, 2, 1)
    sources, offsets, readers = table[:6], table[6:10], table[10:]
    np.testing.assert_array_equal(sources, [0, 0, 0, 1, 2, 2])
    np.testing.assert_array_equal(offsets, [0, 3, 4, 6])
    np.testing.assert_array_equal(readers, [2, 0, 1, 3, 4, 5])


@pytest.mark.parametrize("op,args", [
    ("padding.reflect", (np.zeros((2, 3), np.complex128), ((3, 1, 1),))),
    ("padding.replicate", (np.zeros((1,) * 5), ((1, 1, 1),) * 4)),       # four padded axes
    ("padding.circular", (np.zeros((2, 0)), ((0, 0, 0),))),              # an empty axis
    ("padding.reflect_adjoint", (np.zeros((2, 5), np.int64), ((3, 1, 1),))),
    ("padding.circular_adjoint", (np.zeros((2, 5), np.float16), ((3, 1, 1),))),
    ("padding.constant", (np.zeros((2, 3), np.complex128), ((3, 1, 1),))),
    ("padding.constant", (np.zeros((1,) * 5), ((1, 1, 0),) * 4)),        # four padded axes
    ("padding.constant", (np.zeros((2, 3)), ())),
    ("padding.constant_adjoint", (np.zeros((2,) * 5), ((1, 1, 0), (1, 0, 0), (1, 0, 0), (1, 0, 1)))),
])
def test_calls_the_kernels_do_not_take_go_to_the_generic_kernel(op, args):
    assert not accepts(op, *args)


def test_leading_unpadded_axes_join_the_planes():
    x = np.zeros((1,) * 6, np.float32)
    spec = ((1, 0, 0), (1, 0, 0), (1, 1, 0), (1, 0, 2))
    assert accepts("padding.constant", x, spec)
    compare("padding.constant", random((2, 3, 4, 5, 6), np.float32), ((3, 0, 0), (4, 0, 0), (5, 1, 0), (6, 2, 1)))
