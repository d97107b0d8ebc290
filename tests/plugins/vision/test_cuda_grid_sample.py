"""The cuda backend's ``vision.grid_sample`` and ``vision.grid_sample_backward``
(plugins/vision/cuda.py) compute what the generic kernels (plugins/vision/_sampling.py)
compute, built with the CPU stand-in for ``cupy`` (tests/cuda_emulator.py): every
mode, padding and align_corners, 4-d and 5-d, odd sizes, grids reaching far outside
[-1, 1] and holding NaN and infinities, empty batches; then the calls
``F.grid_sample`` really makes, replayed; and the generic kernels against torch
where the grid leaves the image.
"""

import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from ember.backend import REGISTRY
from tests.oracle import torch

from ..cuda_replay import assert_same_results, replayed_on_device
from .test_cuda_kernels import assert_close
from ...cuda_emulator import generic, on_device

FORWARD, BACKWARD = "vision.grid_sample", "vision.grid_sample_backward"
FLOATS = [np.float32, np.float64]
# the input's gradient is a scatter-add (atomicAdd): its sums come in another order
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}
CASES = [(d, m, p, a) for d in (4, 5) for m in ("bilinear", "nearest", "bicubic")
         for p in ("zeros", "border", "reflection") for a in (False, True)
         if not (d == 5 and m == "bicubic")]
SHAPES = {4: ((2, 3, 5, 7), (2, 3, 4, 2)), 5: ((2, 2, 3, 5, 4), (2, 2, 3, 3, 3))}
SPECIAL = [np.nan, np.inf, -np.inf, 1e10, -1e10, 1e30, 3.0, -5.5, 1.0, -1.0, 0.0]


def _inputs(dims, dtype, seed=0):
    """An image and a grid spread over [-4, 4], with special values in some points."""
    rng = np.random.default_rng(seed)
    shape, gshape = SHAPES[dims]
    grid = rng.uniform(-4, 4, gshape)
    flat = grid.reshape(-1)
    flat[rng.choice(flat.size, len(SPECIAL), replace=False)] = SPECIAL
    return rng.standard_normal(shape).astype(dtype), grid.astype(dtype)


def _check(args, grad, need_input=True):
    assert_close(on_device(FORWARD)(*args), generic(FORWARD)(*args), TOL)
    got, want = on_device(BACKWARD)(grad, *args, need_input), generic(BACKWARD)(grad, *args, need_input)
    assert_close(got[1], want[1], TOL)
    assert_same_results(got[0], want[0], **TOL[want[1].dtype.type])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dims,mode,padding,align", CASES)
def test_every_mode_and_padding(dims, mode, padding, align, dtype):
    x, grid = _inputs(dims, dtype)
    grad = np.random.default_rng(1).standard_normal(x.shape[:2] + grid.shape[1:-1]).astype(dtype)
    _check((x, grid, mode, padding, align), grad)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
def test_single_pixel_axes_and_no_input_gradient(mode, padding):
    # a size-1 axis with align_corners=True: reflection has no span to fold into
    rng = np.random.default_rng(2)
    x, grid = rng.standard_normal((1, 2, 1, 3)), rng.uniform(-3, 3, (1, 5, 2, 2))
    grid[0, 0, 0] = np.nan
    grad = rng.standard_normal((1, 2, 5, 2))
    for align in (False, True):
        _check((x, grid, mode, padding, align), grad)
        assert on_device(BACKWARD)(grad, x, grid, mode, padding, align, False)[0] is None


@pytest.mark.parametrize("dims", [4, 5])
def test_empty_batches_channels_and_grids(dims):
    shape, gshape = SHAPES[dims]
    for n, c, points in ((0, 3, gshape[1]), (2, 0, gshape[1]), (2, 3, 0)):
        x = np.ones((n, c) + shape[2:])
        grid = np.zeros((n, points) + gshape[2:])
        grad = np.ones((n, c) + grid.shape[1:-1])
        _check((x, grid, "bilinear", "zeros", False), grad)


@pytest.mark.parametrize("dtype", FLOATS)
def test_strided_arrays(dtype):
    x, grid = _inputs(4, dtype, seed=3)
    x = np.ascontiguousarray(np.concatenate([x, x], 3)).transpose(0, 1, 3, 2)[:, ::-1]
    grid = np.repeat(grid, 2, axis=2)[:, :, ::2]
    grad = np.random.default_rng(4).standard_normal((2, 3, 3, 4)).astype(dtype).transpose(0, 1, 3, 2)
    _check((x, grid, "bicubic", "reflection", False), grad)


def test_other_dtypes_go_to_the_generic_kernel():
    x, grid = np.ones((1, 1, 3, 3), np.float32), np.zeros((1, 2, 2, 2), np.float32)
    forward, backward = REGISTRY.kernels[(FORWARD, "cuda")], REGISTRY.kernels[(BACKWARD, "cuda")]
    assert forward.accepts(x, grid, "bilinear", "zeros", False)
    assert not forward.accepts(x.astype(np.float16), grid.astype(np.float16), "bilinear", "zeros", False)
    assert not forward.accepts(x, grid.astype(np.float64), "bilinear", "zeros", False)
    grad = np.ones((1, 1, 2, 2), np.float32)
    assert backward.accepts(grad, x, grid, "bilinear", "zeros", False, True)
    assert not backward.accepts(grad.astype(np.float64), x, grid, "bilinear", "zeros", False, True)


@pytest.mark.parametrize("dims,mode,padding,align", CASES)
def test_the_calls_grid_sample_makes(dims, mode, padding, align, monkeypatch):
    forward, backward = replayed_on_device(monkeypatch, FORWARD), replayed_on_device(monkeypatch, BACKWARD)
    x, grid = _inputs(dims, np.float32, seed=5)
    xt, gt = ember.tensor(x, requires_grad=True), ember.tensor(grid, requires_grad=True)
    EF.grid_sample(xt, gt, mode=mode, padding_mode=padding, align_corners=align).square().sum().backward()
    gt2 = ember.tensor(grid, requires_grad=True)  # the grid's gradient alone
    EF.grid_sample(ember.tensor(x), gt2, mode=mode, padding_mode=padding, align_corners=align).sum().backward()
    assert len(forward) == 2 and len(backward) == 2
    for got, want in forward:
        assert_close(got, want, TOL)
    for got, want in backward:
        assert_close(got[1], want[1], TOL)
        assert_same_results(got[0], want[0], **TOL[np.float32])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dims,mode,padding,align", [c for c in CASES if c[0] == 4])
def test_far_outside_and_nan_like_torch(dims, mode, padding, align, dtype):
    """4-d: the values of torch's CPU kernel where the grid leaves the image, or
    holds NaN or infinities; the gradients where it is finite."""
    x, grid = _inputs(dims, dtype, seed=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(grid), mode=mode,
                                               padding_mode=padding, align_corners=align).numpy()
    got = EF.grid_sample(ember.tensor(x), ember.tensor(grid), mode=mode, padding_mode=padding,
                         align_corners=align).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, equal_nan=True)
    finite = np.clip(np.nan_to_num(grid, posinf=9, neginf=-9), -9, 9)
    results = []
    for lib in (ember, torch):
        xt, gt = lib.tensor(x, requires_grad=True), lib.tensor(finite, requires_grad=True)
        lib.nn.functional.grid_sample(xt, gt, mode=mode, padding_mode=padding, align_corners=align).sum().backward()
        results.append((xt.grad.numpy(), gt.grad.numpy()))
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-4)
