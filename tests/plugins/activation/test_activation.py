"""The activation family against torch 2.13: values, gradients, double backward,
gradcheck, in-place forms, module reprs and errors."""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.oracle import as_numpy, assert_same, check, torch

TF = torch.nn.functional
DTYPES = [np.float64, np.float32]


def _x(shape=(3, 5), dtype=np.float64, seed=0, scale=2.0):
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    return x.astype(dtype)


# (name, kwargs) applied with the same spelling in both libraries
ELEMENTWISE = [
    ("relu", {}), ("relu6", {}), ("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}),
    ("celu", {}), ("celu", {"alpha": 2.0}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}),
    ("hardtanh", {}), ("hardtanh", {"min_val": -0.5, "max_val": 2.0}), ("threshold", {"threshold": 0.1, "value": 20.0}),
    ("hardshrink", {}), ("hardshrink", {"lambd": 1.0}), ("softshrink", {}), ("softshrink", {"lambd": 1.0}),
    ("softsign", {}), ("tanhshrink", {}), ("sigmoid", {}), ("tanh", {}), ("logsigmoid", {}),
    ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 1.0}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("rrelu", {}), ("glu", {"dim": 0}), ("glu", {}),
    ("silu", {}), ("mish", {}), ("hardsigmoid", {}), ("hardswish", {}),
]


# piecewise-linear functions: torch returns an all-zero double-backward gradient where
# ember returns None (no dependence); tests/oracle.py only accepts the reverse
PIECEWISE_LINEAR = {"relu6", "leaky_relu", "hardtanh", "threshold", "hardshrink", "softshrink", "rrelu",
                    "hardsigmoid"}
MODULE_PIECEWISE = {"ReLU6", "LeakyReLU", "Hardtanh", "Threshold", "Hardshrink", "Softshrink", "RReLU"}


def _no_double_grad(fn, x, device):
    x = ember.tensor(x, device=device, requires_grad=True)
    (g,) = ember.autograd.grad(fn(x).sum(), x, create_graph=True)
    if g.requires_grad:
        (gg,) = ember.autograd.grad(g.sum(), x, allow_unused=True)
        assert gg is None or not as_numpy(gg).any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kw", ELEMENTWISE, ids=[f"{n}-{'-'.join(map(str, k.values()))}" for n, k in ELEMENTWISE])
def test_functional_matches_torch(name, kw, dtype, device):
    shape = (4, 6)
    double = name not in PIECEWISE_LINEAR
    check(lambda x: getattr(EF, name)(x, **kw), [_x(shape, dtype)],
          lambda x: getattr(TF, name)(x, **kw), double=double)
    if not double:
        _no_double_grad(lambda x: getattr(EF, name)(x, **kw), _x(shape, dtype), device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family(fn, dim, dtype):
    check(lambda x: getattr(EF, fn)(x, dim=dim), [_x((3, 4, 5), dtype)], lambda x: getattr(TF, fn)(x, dim=dim))


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
def test_softmax_dtype_argument(fn):
    check(lambda x: getattr(EF, fn)(x, dim=1, dtype=ember.float64),
          [_x((3, 4), np.float32)], lambda x: getattr(TF, fn)(x, dim=1, dtype=torch.float64), gradcheck=False)


@pytest.mark.parametrize("ndim,expected", [(1, 0), (2, 1), (3, 0), (4, 1)])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
def test_implicit_dim_warns_and_picks_torchs_dim(fn, ndim, expected, device):
    x = _x((2, 3, 2, 3)[:ndim])
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {fn}"):
        e = getattr(EF, fn)(ember.tensor(x, device=device))
    assert_same(e, getattr(TF, fn)(torch.tensor(x), dim=expected))


@pytest.mark.parametrize("dtype", DTYPES)
# a 1-D input has one channel in torch: three weights for it are an error, tested below
@pytest.mark.parametrize("shape,nweights", [((2, 3), 1), ((2, 3), 3), ((2, 3, 4), 1), ((2, 3, 4), 3), ((3,), 1)])
def test_prelu(shape, nweights, dtype):
    w = np.array([0.25, -0.3, 0.7][:nweights], dtype=dtype)
    check(EF.prelu, [_x(shape, dtype), w], TF.prelu)


def test_prelu_errors(device):
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size"):
        EF.prelu(ember.randn(2, 3, device=device), ember.randn(2, device=device))
    with pytest.raises(RuntimeError, match="channel size = 1"):
        EF.prelu(ember.randn(3, device=device), ember.randn(3, device=device))
    with pytest.raises(RuntimeError, match="Not allow zero-dim input tensor"):
        EF.prelu(ember.tensor(-1.0, device=device), ember.randn(3, device=device))


def test_stable_at_large_inputs(device):
    big = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    for fn in ["logsigmoid", "softplus", "elu", "selu", "celu", "sigmoid", "tanh", "gelu"]:
        check(lambda x: getattr(EF, fn)(x), [big], lambda x: getattr(TF, fn)(x), gradcheck=False, double=False)
        x = ember.tensor(big, device=device, requires_grad=True)
        getattr(EF, fn)(x).sum().backward()
        assert np.isfinite(as_numpy(x.grad)).all(), fn


@pytest.mark.parametrize("name,kw", [("relu", {}), ("elu", {}), ("hardtanh", {}), ("relu6", {}),
                                     ("hardtanh", {"min_val": 0.0, "max_val": 1.0}),
                                     ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}),
                                     ("softshrink", {}), ("hardshrink", {}), ("threshold", {"threshold": 0.0, "value": 0.0}),
                                     ("celu", {}), ("selu", {}), ("logsigmoid", {}), ("prelu", None)])
def test_gradient_at_kinks(name, kw):
    # exactly at 0, the bounds and +-lambda, torch's gradient conventions
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 6.0, -6.0])
    if kw is None:
        check(EF.prelu, [x, np.array([0.25])], TF.prelu, gradcheck=False, double=False)
    else:
        check(lambda t: getattr(EF, name)(t, **kw), [x], lambda t: getattr(TF, name)(t, **kw),
              gradcheck=False, double=False)


INPLACE = [("relu_", {}), ("elu_", {}), ("elu_", {"alpha": 0.5}), ("selu_", {}), ("celu_", {}),
           ("leaky_relu_", {}), ("leaky_relu_", {"negative_slope": 0.3}), ("hardtanh_", {}),
           ("threshold_", {"threshold": 0.1, "value": -2.0}), ("rrelu_", {})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kw", INPLACE, ids=[f"{n}-{'-'.join(map(str, k.values()))}" for n, k in INPLACE])
def test_inplace_functions(name, kw, dtype, device):
    def run(lib, fn):
        x = ember.tensor(_x((3, 4), dtype), device=device) if lib is ember else torch.tensor(_x((3, 4), dtype))
        x.requires_grad_()
        y = x * 1
        out = fn(y, **kw)
        assert out is y
        out.sum().backward()
        return out, x.grad

    e_out, e_g = run(ember, getattr(EF, name))
    t_out, t_g = run(torch, getattr(TF, name))
    assert_same(e_out, t_out)
    assert_same(e_g, t_g, "grad")


@pytest.mark.parametrize("name,kw", [("relu", {}), ("elu", {}), ("selu", {}), ("celu", {}), ("leaky_relu", {}),
                                     ("hardtanh", {}), ("relu6", {}), ("threshold", {"threshold": 0.1, "value": 2.0}),
                                     ("rrelu", {})])
def test_inplace_flag_modifies_input(name, kw, device):
    x = _x((3, 4))
    e = ember.tensor(x, device=device)
    out = getattr(EF, name)(e, inplace=True, **kw)
    assert out is e
    assert_same(e, getattr(TF, name)(torch.tensor(x), **kw))


@pytest.mark.parametrize("name", ["relu_", "elu_", "selu_", "celu_", "leaky_relu_", "hardtanh_", "threshold_"])
def test_inplace_on_leaf_requiring_grad_raises(name, device):
    x = ember.randn(3, device=device, requires_grad=True)
    args = (0.0, 0.0) if name == "threshold_" else ()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        getattr(EF, name)(x, *args)


def test_leaky_relu_inplace_negative_slope_with_grad_raises(device):
    x = ember.randn(3, device=device, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="negative slope"):
        EF.leaky_relu_(x, -0.5)


def test_inplace_double_backward(device):
    x0 = _x((3, 4))
    grads = []
    for lib, F in ((ember, EF), (torch, TF)):
        x = ember.tensor(x0, device=device) if lib is ember else torch.tensor(x0)
        x.requires_grad_()
        y = F.elu_(x * 1.5)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        grads.append((g, gg))
    assert_same(grads[0][0], grads[1][0])
    assert_same(grads[0][1], grads[1][1])


def test_rrelu_training_random_and_seeded(device):
    x = ember.tensor(-np.ones((200, 50)), device=device)
    ember.manual_seed(3)
    a = EF.rrelu(x, 0.1, 0.3, training=True)
    ember.manual_seed(3)
    b = EF.rrelu(x, 0.1, 0.3, training=True)
    slopes = -as_numpy(a)
    assert np.array_equal(as_numpy(a), as_numpy(b))
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.01 and slopes.std() > 0.05
    pos = EF.rrelu(ember.ones(10, device=device), training=True)
    assert (as_numpy(pos) == 1).all()


def test_rrelu_training_gradient_is_the_slope(device):
    x = ember.tensor(_x((20, 10)), device=device, requires_grad=True)
    y = EF.rrelu(x, training=True)
    y.sum().backward()
    xn = as_numpy(x)
    np.testing.assert_allclose(as_numpy(x.grad), as_numpy(y) / xn)


def test_rrelu_module_train_eval(device):
    m = ember.nn.RReLU(0.1, 0.3)
    x = -ember.ones(1000, device=device)
    assert np.unique(as_numpy(m(x))).size > 100
    m.eval()
    np.testing.assert_allclose(as_numpy(m(x)), -0.2)


MODULES = [
    ("ELU", (), {}), ("ELU", (0.5, True), {}), ("Hardshrink", (), {}), ("Hardshrink", (0.3,), {}),
    ("Hardtanh", (), {}), ("Hardtanh", (-2, 3, True), {}), ("LeakyReLU", (), {}), ("LeakyReLU", (0.2, True), {}),
    ("LogSigmoid", (), {}), ("PReLU", (), {}), ("PReLU", (3, 0.1), {}), ("ReLU", (), {}), ("ReLU", (True,), {}),
    ("ReLU6", (), {}), ("ReLU6", (True,), {}), ("RReLU", (), {}), ("RReLU", (0.1, 0.3, True), {}),
    ("SELU", (), {}), ("SELU", (True,), {}), ("CELU", (), {}), ("CELU", (2.0, True), {}), ("Sigmoid", (), {}),
    ("Softplus", (), {}), ("Softplus", (2, 10), {}), ("Softshrink", (), {}), ("Softsign", (), {}), ("Tanh", (), {}),
    ("Tanhshrink", (), {}), ("Threshold", (0.1, 20), {}), ("Threshold", (0.1, 20, True), {}),
    ("Softmin", (), {"dim": 1}), ("Softmin", (), {}), ("Softmax", (), {"dim": 0}), ("Softmax", (), {}),
    ("Softmax2d", (), {}), ("LogSoftmax", (2,), {}), ("LogSoftmax", (), {}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("GLU", (), {}), ("GLU", (1,), {}),
]


@pytest.mark.parametrize("name,args,kw", MODULES)
def test_module_repr_matches_torch(name, args, kw):
    assert repr(getattr(ember.nn, name)(*args, **kw)) == repr(getattr(torch.nn, name)(*args, **kw))


def _plain_module(name, args, kw):
    """Not an in-place module, nor a softmax without its dim: both tested separately."""
    in_place = bool(args) and args[-1] is True
    implicit_dim = name in ("Softmin", "Softmax", "LogSoftmax") and not kw and not args
    return not in_place and not implicit_dim


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,args,kw", [m for m in MODULES if _plain_module(*m)])
def test_module_forward_backward(name, args, kw, dtype):
    x = _x((2, 4, 4, 4) if name == "GLU" else (2, 3, 4, 4), dtype)
    e_m, t_m = getattr(ember.nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    e_m.eval(), t_m.eval()
    params = [as_numpy(p).astype(dtype) for p in t_m.parameters()]
    if params:  # PReLU: same slopes, fed as inputs so their gradients are checked too
        def e_fn(inp, w):
            return EF.prelu(inp, w)

        def t_fn(inp, w):
            return TF.prelu(inp, w)

        for p in e_m.parameters():
            assert_same(p, next(t_m.parameters()), "initial weight")
        check(e_fn, [x, params[0]], t_fn)
    else:
        check(lambda t: e_m(t), [x], lambda t: t_m(t), double=name not in MODULE_PIECEWISE and not (name == "GELU" and dtype == np.float32))


@pytest.mark.parametrize("name,args", [("ReLU", ()), ("ELU", (1.0,)), ("SELU", ()), ("CELU", (1.0,)),
                                       ("LeakyReLU", (0.1,)), ("Hardtanh", (-1.0, 1.0)), ("ReLU6", ()),
                                       ("Threshold", (0.1, 2.0))])
def test_inplace_modules(name, args, device):
    x = _x((3, 4))
    e, t = ember.tensor(x, device=device), torch.tensor(x)
    e_out = getattr(ember.nn, name)(*args, inplace=True)(e)
    t_out = getattr(torch.nn, name)(*args, inplace=True)(t)
    assert e_out is e
    assert_same(e, t)


def test_prelu_module_parameter(device):
    m = ember.nn.PReLU(3, 0.1).to(device)
    assert m.weight.shape == (3,) and np.allclose(as_numpy(m.weight), 0.1) and m.weight.requires_grad
    x = ember.tensor(_x((2, 3, 5)), device=device)
    m.double()(x).sum().backward()   # float64 input, float64 weight: torch refuses mixed dtypes
    t = torch.nn.PReLU(3, 0.1).double()
    t(torch.tensor(_x((2, 3, 5)))).sum().backward()
    assert_same(m.weight.grad.to(ember.float64), t.weight.grad)


def test_errors(device):
    with pytest.raises(AssertionError, match="max_val"):
        ember.nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D instead"):
        ember.nn.Softmax2d()(ember.randn(2, 3, device=device))
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        EF.glu(ember.randn(2, 3, device=device))
    with pytest.raises(RuntimeError, match="lambda must be"):
        EF.softshrink(ember.randn(3, device=device), -1.0)
    with pytest.raises(RuntimeError, match="approximate argument"):
        EF.gelu(ember.randn(3, device=device), approximate="x")
    with pytest.raises(RuntimeError, match="alpha cannot be 0"):
        EF.celu(ember.randn(3, device=device), 0.0)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        EF.logsigmoid(ember.arange(3, device=device))
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal to the upper bound"):
        EF.rrelu(ember.randn(3, device=device), 0.5, 0.1, training=True)


def test_hardtanh_deprecated_keywords():
    with pytest.warns(FutureWarning, match="min_value"):
        m = ember.nn.Hardtanh(min_value=-2.0)
    assert m.min_val == -2.0


def test_registered_names():
    for name in ["ELU", "PReLU", "Softmax2d", "LogSoftmax", "RReLU", "GELU", "GLU"]:
        assert issubclass(getattr(ember.nn, name), ember.nn.Module)
    for name in ["elu_", "hardtanh_", "log_softmax", "gelu", "glu", "rrelu_", "threshold_"]:
        assert callable(getattr(ember.nn.functional, name))


@pytest.mark.parametrize("name", ["SiLU", "Mish", "Hardsigmoid", "Hardswish"])
@pytest.mark.parametrize("inplace", [False, True])
def test_gated_units_modules(name, inplace, device):
    """The activations torch added after 1.0: values, in-place writing and repr."""
    x = _x((3, 4), np.float64, scale=4.0)
    e_m, t_m = getattr(ember.nn, name)(inplace=inplace), getattr(torch.nn, name)(inplace=inplace)
    assert repr(e_m) == repr(t_m)
    e_in, t_in = ember.tensor(x, device=device), torch.tensor(x)
    assert_same(e_m(e_in), t_m(t_in))
    if inplace:
        assert_same(e_in, t_in)


@pytest.mark.parametrize("name", ["silu", "mish", "hardsigmoid", "hardswish"])
def test_gated_units_at_the_kinks(name, device):
    x = np.array([-5.0, -3.0, -2.5, 0.0, 3.0, 3.5])
    check(getattr(EF, name), [x], getattr(TF, name), gradcheck=False, double=False)
    with pytest.raises(NotImplementedError):
        getattr(EF, name)(ember.tensor([1, 2], device=device))


def test_gumbel_softmax_samples_the_categorical_distribution(device):
    logits = ember.tensor([[1.0, 0.0, -1.0, 2.0]], device=device).expand(20000, 4)
    ember.manual_seed(0)
    hard = EF.gumbel_softmax(logits, hard=True)
    assert hard.sum(1).eq(1).all() and ((hard == 0) | (hard == 1)).all()
    freq = as_numpy(hard.mean(0))
    probs = as_numpy(logits[0].softmax(0))
    np.testing.assert_allclose(freq, probs, atol=0.015)
    soft = EF.gumbel_softmax(logits[:5], tau=0.3, dim=1)
    np.testing.assert_allclose(as_numpy(soft.sum(1)), np.ones(5), rtol=1e-6)


def test_gumbel_softmax_hard_passes_the_soft_gradient(device):
    x = ember.randn(6, 5, dtype=ember.float64, device=device, requires_grad=True)
    w = ember.randn(6, 5, dtype=ember.float64, device=device)
    grads = []
    for hard in (False, True):
        ember.manual_seed(3)
        (EF.gumbel_softmax(x, tau=0.7, hard=hard, dim=0) * w).sum().backward()
        grads.append(as_numpy(x.grad).copy())
        x.grad = None
    np.testing.assert_allclose(grads[0], grads[1])
    with pytest.warns(UserWarning, match="deprecated"):
        EF.gumbel_softmax(x, eps=1e-5)
