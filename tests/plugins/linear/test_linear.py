"""Identity, Linear, Bilinear against torch 2.13 with copied weights."""

import math

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.oracle import as_numpy, assert_same, check, placed, torch

TF = torch.nn.functional
DTYPES = [np.float64, np.float32]


def _r(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (3,), (2, 4, 3), (2, 2, 2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_functional(shape, bias, dtype):
    inputs = [_r(shape, dtype), _r((4, 3), dtype, 1)] + ([_r((4,), dtype, 2)] if bias else [])
    check(EF.linear, inputs, TF.linear)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape1,shape2", [((5, 3), (5, 2)), ((3,), (2,)), ((2, 4, 3), (2, 4, 2))])
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_functional(shape1, shape2, bias, dtype):
    inputs = [_r(shape1, dtype), _r(shape2, dtype, 1), _r((4, 3, 2), dtype, 2)] + ([_r((4,), dtype, 3)] if bias else [])
    check(EF.bilinear, inputs, TF.bilinear)


def _module_check(e_m, t_m, inputs, dtype):
    """Copy torch's parameters into ember's module, compare outputs and the gradients
    of inputs and parameters."""
    t_m = t_m.to(torch.float64 if dtype == np.float64 else torch.float32)
    e_m = e_m.to(ember.float64 if dtype == np.float64 else ember.float32) if hasattr(e_m, "to") else e_m
    names = [n for n, _ in t_m.named_parameters()]
    params = [as_numpy(p).astype(dtype) for p in t_m.parameters()]

    def e_fn(*args):
        xs, ps = args[:len(inputs)], args[len(inputs):]
        for n, p in zip(names, ps):
            e_m._parameters[n] = p  # the checked tensors become the parameters
        return e_m(*xs)

    def t_fn(*args):
        xs, ps = args[:len(inputs)], args[len(inputs):]
        return torch.func.functional_call(t_m, dict(zip(names, ps)), xs)

    check(e_fn, list(inputs) + params, t_fn)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_module(bias, dtype):
    _module_check(ember.nn.Linear(3, 4, bias=bias), torch.nn.Linear(3, 4, bias=bias), [_r((2, 5, 3), dtype)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_module(bias, dtype):
    _module_check(ember.nn.Bilinear(3, 2, 4, bias=bias), torch.nn.Bilinear(3, 2, 4, bias=bias),
                  [_r((5, 3), dtype), _r((5, 2), dtype, 1)], dtype)


def test_identity(device):
    x = ember.randn(3, requires_grad=True, device=device)
    m = ember.nn.Identity(54, unused=0.1)
    assert m(x) is x
    assert list(m.parameters()) == []


@pytest.mark.parametrize("args,kw", [((3, 4), {}), ((3, 4), {"bias": False})])
def test_linear_parameters_and_repr(args, kw):
    e, t = ember.nn.Linear(*args, **kw), torch.nn.Linear(*args, **kw)
    assert repr(e) == repr(t)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert e.weight.shape == (4, 3) and e.weight.requires_grad
    assert (e.bias is None) == (t.bias is None)


def test_bilinear_repr_and_shapes():
    e, t = ember.nn.Bilinear(2, 3, 4), torch.nn.Bilinear(2, 3, 4)
    assert repr(e) == repr(t)
    assert e.weight.shape == (4, 2, 3) and e.bias.shape == (4,)
    assert repr(ember.nn.Bilinear(2, 3, 4, bias=False)) == repr(torch.nn.Bilinear(2, 3, 4, bias=False))
    assert repr(ember.nn.Identity()) == repr(torch.nn.Identity())


def test_default_init_distribution():
    ember.manual_seed(0)
    m = ember.nn.Linear(100, 200)
    w, b = as_numpy(m.weight), as_numpy(m.bias)
    bound = 1 / math.sqrt(100)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # uniform on [-bound, bound]: std = bound / sqrt(3)
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert abs(w.mean()) < 0.02 * bound
    m2 = ember.nn.Bilinear(25, 3, 400)
    bound = 1 / math.sqrt(25)
    w = as_numpy(m2.weight)
    assert np.abs(w).max() <= bound and abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_init_reproducible():
    ember.manual_seed(7)
    a = as_numpy(ember.nn.Linear(5, 6).weight)
    ember.manual_seed(7)
    assert np.array_equal(a, as_numpy(ember.nn.Linear(5, 6).weight))


def test_dtype_argument(device):
    m = ember.nn.Linear(3, 4, dtype=ember.float64, device=device)
    assert m.weight.dtype == ember.float64 and m.bias.dtype == ember.float64
    assert m.weight.device == m.bias.device == placed(device)


def test_errors(device):
    def randn(*shape):
        return ember.randn(*shape, device=device)

    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        EF.linear(randn(2, 3), randn(5, 4))
    with pytest.raises(RuntimeError, match="bilinear\\(\\): input dimensions do not match: got 3 and 2"):
        EF.bilinear(randn(2, 2, 3), randn(2, 4), randn(5, 3, 4))
    with pytest.raises(RuntimeError, match="input batch dimensions do not match at dim 0: got 2 and 3"):
        EF.bilinear(randn(2, 3), randn(3, 4), randn(5, 3, 4))
    with pytest.raises(RuntimeError, match="input2 size does not match weight size: got 4 but expected 3"):
        EF.bilinear(randn(2, 3), randn(2, 4), randn(5, 3, 3))
    with pytest.raises(RuntimeError, match="bias size does not match weight size: got 4 but expected 5"):
        EF.bilinear(randn(2, 3), randn(2, 4), randn(5, 3, 4), randn(4))
    with pytest.raises(ValueError, match="in1_features must be > 0"):
        ember.nn.Bilinear(0, 3, 4)


# Without a bias, torch's N-D and 1-D inputs go through matmul (UnsafeViewBackward0,
# SqueezeBackward4); ember's through its mm node and a view.
@pytest.mark.parametrize("shape, bias", [((2, 4), True), ((2, 4), False), ((5, 2, 4), True), ((4,), True)])
def test_linear_node_names_are_torchs(shape, bias):
    def node(L):
        w = L.randn(3, 4, requires_grad=True)
        b = L.randn(3, requires_grad=True) if bias else None
        out = L.nn.functional.linear(L.randn(*shape), w, b)
        return out.grad_fn.name() if L is ember else type(out.grad_fn).__name__

    assert node(ember) == node(torch)


def test_weight_gradient_takes_the_weights_layout():
    """As torch's layout contract: a gradient is laid out like its parameter, so that
    optimizer updates in place run over contiguous memory."""
    layer = ember.nn.Linear(6, 5)
    layer(ember.randn(3, 6)).sum().backward()
    assert layer.weight.grad.is_contiguous() and layer.weight.grad.stride() == layer.weight.stride()
    x = ember.randn(4, 5, requires_grad=True)
    x.t().sum().backward()
    assert x.grad.is_contiguous()
