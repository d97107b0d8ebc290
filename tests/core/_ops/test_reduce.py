"""Reductions against torch: values, dtypes, gradients, double backward, errors."""

import math

import numpy as np
import pytest

import ember
from tests.oracle import check, torch

RNG = np.random.default_rng(0)
FLOATS = [np.float64, np.float32]
INF = math.inf


def rand(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def distinct(*shape, dtype=np.float64):
    """Values without ties (max/min gradients are then unambiguous)."""
    n = int(np.prod(shape))
    return (RNG.permutation(n).reshape(shape) * 0.37 - 1.1).astype(dtype)


# Non-contiguous views: each reduction also runs on a transposed and a step-sliced input.
LAYOUTS = {
    "plain": lambda x: x,
    "transposed": lambda x: x.transpose(0, 1),
    "sliced": lambda x: x[:, ::2],
}


# ----------------------------------------------------------------- sum / mean
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("kwargs", [
    {}, {"dim": 0}, {"dim": -1}, {"dim": (0, 2)}, {"dim": [1, -1]},
    {"dim": 1, "keepdim": True}, {"dim": (0, 1, 2), "keepdim": True},
])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_mean(op, kwargs, layout, dtype):
    view = LAYOUTS[layout]
    check(lambda x: getattr(view(x), op)(**kwargs), [rand(3, 4, 2, dtype=dtype)])


@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_mean_function_form(op):
    check(lambda x: getattr(ember if isinstance(x, ember.Tensor) else torch, op)(x, 1, True),
          [rand(2, 3)])


@pytest.mark.parametrize("op,kwargs,name", [
    ("sum", {}, "SumBackward0"), ("sum", {"dim": 0}, "SumBackward1"),
    ("sum", {"dim": (0, 1)}, "SumBackward1"), ("mean", {}, "MeanBackward0"),
    ("mean", {"dim": 1}, "MeanBackward1"), ("prod", {}, "ProdBackward0"),
    ("prod", {"dim": 0}, "ProdBackward1"), ("max", {}, "MaxBackward1"),
    ("min", {}, "MinBackward1"), ("amax", {"dim": 0}, "AmaxBackward0"),
    ("amin", {}, "AminBackward0"), ("var", {}, "VarBackward0"),
    ("std", {"dim": 0}, "StdBackward0"), ("logsumexp", {"dim": 0}, "LogsumexpBackward0"),
    ("cumsum", {"dim": 0}, "CumsumBackward0"),
])
def test_grad_fn_names(op, kwargs, name):
    x = ember.tensor(rand(2, 3)).requires_grad_()
    t = torch.from_numpy(rand(2, 3)).requires_grad_()
    ey, ty = getattr(x, op)(**kwargs), getattr(t, op)(**kwargs)
    assert type(ty.grad_fn).__name__ == name
    assert type(ey.grad_fn).__name__ == name
    assert ey.grad_fn.name() == ty.grad_fn.name()


def test_max_dim_grad_fn_name():
    x = ember.tensor(rand(2, 3)).requires_grad_()
    assert x.max(0).values.grad_fn.name() == "MaxBackward0"
    assert x.min(0).values.grad_fn.name() == "MinBackward0"


@pytest.mark.parametrize("np_dtype,torch_dtype", [
    (np.int64, "int64"), (np.int32, "int64"), (np.uint8, "int64"), (np.bool_, "int64"),
])
@pytest.mark.parametrize("op", ["sum", "prod", "cumsum"])
def test_integer_accumulate_in_int64(op, np_dtype, torch_dtype):
    a = (RNG.integers(0, 3, (3, 4))).astype(np_dtype)
    kw = {"dim": 0} if op == "cumsum" else {}
    check(lambda x: getattr(x, op)(**kw), [a], grad=False)
    check(lambda x: getattr(x, op)(**{"dim": 1}), [a], grad=False)


@pytest.mark.parametrize("dtype_arg", ["float64", "int32"])
def test_sum_dtype_argument(dtype_arg):
    a = RNG.integers(0, 5, (3, 4))
    check(lambda x: x.sum(1, dtype=getattr(ember if isinstance(x, ember.Tensor) else torch, dtype_arg)),
          [a], grad=False)


def test_mean_of_integers_raises():
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        ember.tensor([1, 2]).mean()
    assert ember.tensor([1, 2]).mean(dtype=ember.float64).item() == 1.5


def test_empty_reductions():
    e = ember.zeros(0)
    assert e.sum().item() == 0 and e.prod().item() == 1
    assert math.isnan(e.mean().item())
    z = ember.zeros(0, 3)
    assert tuple(z.sum(0).shape) == (3,) and tuple(z.sum(1).shape) == (0,)


@pytest.mark.parametrize("dims", [(0, 0), (1, -1)])
def test_repeated_dims_raise(dims):
    with pytest.raises(RuntimeError, match="appears multiple times"):
        ember.zeros(2, 3).sum(dims)


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "argmax", "var", "logsumexp", "cumsum"])
def test_dim_out_of_range(op):
    with pytest.raises(IndexError, match="Dimension out of range \\(expected to be in range of \\[-2, 1\\], but got 2\\)"):
        getattr(ember.zeros(2, 3), op)(2)


def test_sum_zero_dim_tensor():
    check(lambda x: x.sum(), [np.array(2.5)])
    check(lambda x: x.sum(0), [np.array(2.5)])
    check(lambda x: x.mean(-1, keepdim=True), [np.array(2.5)])


# ----------------------------------------------------------------- prod
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": -1, "keepdim": True}])
def test_prod(kwargs, dtype):
    check(lambda x: x.prod(**kwargs), [rand(2, 3, dtype=dtype)])
    check(lambda x: x.t().prod(**kwargs), [rand(3, 2, dtype=dtype)])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("zeros", [1, 2, 3])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": 0, "keepdim": True}])
def test_prod_with_zeros(kwargs, zeros, dtype):
    a = rand(3, 4, dtype=dtype)
    a[1, :zeros] = 0          # row 1: `zeros` zeros; column 0 gets one zero
    a[2, 3] = 0               # a second zero in column 3 only when zeros == 3
    check(lambda x: x.prod(**kwargs), [a], gradcheck=False)


@pytest.mark.parametrize("zeros", [1, 2])
def test_prod_with_zeros_gradcheck(zeros):
    a = rand(2, 3)
    a[0, :zeros] = 0
    check(lambda x: x.prod(1), [a])
    check(lambda x: x.prod(), [a])


def test_prod_tuple_dim_is_type_error():
    with pytest.raises(TypeError):
        ember.zeros(2, 3).prod((0, 1))


# ----------------------------------------------------------------- max / min
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_full(op, layout, dtype):
    view = LAYOUTS[layout]
    check(lambda x: getattr(view(x), op)(), [distinct(3, 4, dtype=dtype)])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), (-1, False), (-3, True)])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim(op, dim, keepdim, dtype):
    a = distinct(3, 4, 2, dtype=dtype)
    check(lambda x: tuple(getattr(x, op)(dim, keepdim)), [a])
    check(lambda x: tuple(getattr(x, op)(dim=dim, keepdim=keepdim)), [a], gradcheck=False)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_namedtuple(op):
    x = ember.tensor(distinct(3, 4))
    t = torch.from_numpy(x.numpy().copy())
    out, ref = getattr(x, op)(1), getattr(t, op)(1)
    values, indices = out
    assert out.values is values and out.indices is indices
    np.testing.assert_array_equal(out.indices.numpy(), ref.indices.numpy())
    np.testing.assert_array_equal(out[0].numpy(), ref[0].numpy())
    assert out.indices.dtype == ember.int64
    fn_out = getattr(ember, op)(x, dim=0, keepdim=True)
    assert tuple(fn_out.values.shape) == (1, 4) and tuple(fn_out.indices.shape) == (1, 4)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim_ties_gradient_goes_to_index(op):
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]])
    check(lambda x: getattr(x, op)(1).values, [a], gradcheck=False)
    check(lambda x: getattr(x, op)(), [a], gradcheck=False)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_elementwise_tensor_arg(op):
    check(lambda x, y: getattr(x, op)(y), [distinct(2, 3), distinct(2, 3) + 0.05])
    check(lambda x, y: getattr(ember if isinstance(x, ember.Tensor) else torch, op)(x, y),
          [distinct(2, 3), distinct(3) + 0.05])


@pytest.mark.parametrize("op", ["max", "min", "amax", "amin", "argmax", "argmin"])
def test_max_min_integers(op):
    a = RNG.integers(-5, 5, (3, 4))
    check(lambda x: getattr(x, op)(), [a], grad=False)
    out = lambda x: getattr(x, op)(1)
    check(lambda x: tuple(out(x)) if op in ("max", "min") else out(x), [a], grad=False)


@pytest.mark.parametrize("op", ["max", "amax", "argmax"])
def test_max_empty_raises(op):
    with pytest.raises((RuntimeError, IndexError), match="Expected reduction dim"):
        getattr(ember.zeros(0), op)()
    with pytest.raises((RuntimeError, IndexError), match="Expected reduction dim 0 to have non-zero size"):
        getattr(ember.zeros(0, 3), op)(0)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": (0, 1)}, {"dim": -1, "keepdim": True}])
@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_amin(op, kwargs, dtype):
    check(lambda x: getattr(x, op)(**kwargs), [distinct(3, 2, 2, dtype=dtype)])
    check(lambda x: getattr(x.transpose(0, 2), op)(**kwargs), [distinct(2, 2, 3, dtype=dtype)])


@pytest.mark.parametrize("op,kwargs", [
    ("amax", {}), ("amax", {"dim": 1}), ("amax", {"dim": 0, "keepdim": True}),
    ("amin", {}), ("amin", {"dim": 1}), ("amin", {"dim": 0, "keepdim": True}),
    ("max", {}), ("min", {}),   # with a dim, max/min route the gradient to the returned index
])
def test_ties_share_gradient(op, kwargs):
    a = np.array([[1.0, 3.0, 3.0], [3.0, 0.5, 3.0]])
    if op in ("amin", "min"):
        a = -a
    check(lambda x: getattr(x, op)(**kwargs), [a], gradcheck=False)


@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": 1}, {"dim": -1, "keepdim": True},
                                    {"dim": None, "keepdim": True}])
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_argmin(op, kwargs):
    check(lambda x: getattr(x, op)(**kwargs), [distinct(3, 4)], grad=False)
    check(lambda x: getattr(x.t(), op)(**kwargs), [distinct(3, 4)], grad=False)
    # first index on ties
    check(lambda x: getattr(x, op)(**kwargs), [np.zeros((2, 3))], grad=False)


def test_argmax_zero_dim():
    check(lambda x: x.argmax(), [np.array(1.5)], grad=False)
    check(lambda x: x.argmax(0), [np.array(1.5)], grad=False)


# ----------------------------------------------------------------- var / std
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("kwargs", [
    {}, {"dim": 0}, {"dim": -1, "keepdim": True}, {"dim": (0, 1)}, {"dim": 1, "unbiased": False},
    {"dim": 0, "correction": 0}, {"dim": 1, "correction": 2}, {"correction": 0},
    {"unbiased": False},
])
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std(op, kwargs, layout, dtype):
    view = LAYOUTS[layout]
    check(lambda x: getattr(view(x), op)(**kwargs), [rand(4, 6, dtype=dtype)],
          gradcheck=dtype is np.float64 and layout == "plain")


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_positional_unbiased(op):
    check(lambda x: getattr(x, op)(1, False), [rand(3, 4)])
    check(lambda x: getattr(x, op)(False), [rand(3, 4)])
    check(lambda x: getattr(x, op)(0, True, True), [rand(3, 4)])


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_integer_raises(op):
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        getattr(ember.tensor([1, 2, 3]), op)()


# ----------------------------------------------------------------- norm
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", ["fro", 1, 2, 3, 0.5, INF, -INF, 0])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": -1, "keepdim": True}, {"dim": (0, 1)}])
def test_norm(p, kwargs, dtype):
    if p == "fro" and "dim" in kwargs and not isinstance(kwargs["dim"], tuple):
        kwargs = dict(kwargs, dim=(kwargs["dim"],))
    a = distinct(3, 4, dtype=dtype)
    # torch's second derivative for piecewise-linear norms is a ZeroTensor, which the
    # oracle cannot read: those are checked to be zero below instead.
    linear = p in (1, INF, -INF)
    check(lambda x: x.norm(p, **kwargs), [a], gradcheck=p != 0, double=not linear)
    check(lambda x: (ember if isinstance(x, ember.Tensor) else torch).norm(x.t(), p=p, **kwargs),
          [a], gradcheck=False, double=not linear)
    if linear:
        x = ember.tensor(a).requires_grad_()
        (g,) = ember.autograd.grad(x.norm(p, **kwargs).sum(), x, create_graph=True)
        if g.requires_grad:
            (gg,) = ember.autograd.grad((g * g).sum(), x, allow_unused=True)
            assert gg is None or not gg.detach().numpy().any()


@pytest.mark.parametrize("p", [2, "fro", 1, 3, INF])
def test_norm_gradient_at_zero(p):
    check(lambda x: x.norm(p), [np.zeros((2, 3))], gradcheck=False, double=False)
    check(lambda x: x.norm(p, dim=1), [np.array([[0.0, 0.0], [3.0, 4.0]])], gradcheck=False, double=False)


def test_norm_default_is_two_norm_grad_fn():
    x = ember.tensor(rand(2, 3)).requires_grad_()
    assert x.norm().grad_fn.name() == "LinalgVectorNormBackward0"
    assert x.norm(1, dim=0).grad_fn.name() == "LinalgVectorNormBackward0"


def test_norm_integer_raises():
    with pytest.raises(RuntimeError):
        ember.tensor([1, 2]).norm()


# ----------------------------------------------------------------- logsumexp
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kwargs", [{"dim": 0}, {"dim": -1, "keepdim": True}, {"dim": (0, 1)}])
def test_logsumexp(kwargs, dtype):
    check(lambda x: x.logsumexp(**kwargs), [rand(3, 4, dtype=dtype)])
    check(lambda x: x.t().logsumexp(**kwargs), [rand(4, 3, dtype=dtype)], gradcheck=False)


@pytest.mark.parametrize("dtype", FLOATS)
def test_logsumexp_large_and_inf(dtype):
    a = np.array([[1000.0, 1000.0, -INF], [-INF, -INF, -INF], [-INF, 1.0, 2.0]], dtype=dtype)
    check(lambda x: x.logsumexp(1), [a], gradcheck=False)
    big = np.array([[1e4, -1e4], [-50.0, 50.0]], dtype=dtype)
    check(lambda x: x.logsumexp(0), [big], gradcheck=False)


def test_logsumexp_of_integers_is_float():
    check(lambda x: x.logsumexp(0), [np.array([1, 2, 3])], grad=False)
    check(lambda x: (ember if isinstance(x, ember.Tensor) else torch).logsumexp(x, 0), [rand(3)])


# ----------------------------------------------------------------- all / any / cumsum
@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": -1, "keepdim": True}])
@pytest.mark.parametrize("dtype", [np.bool_, np.float64, np.int64, np.uint8])
@pytest.mark.parametrize("op", ["all", "any"])
def test_all_any(op, dtype, kwargs):
    a = np.array([[1, 0, 2], [3, 4, 5], [0, 0, 0]]).astype(dtype)
    check(lambda x: getattr(x, op)(**kwargs), [a], grad=False)
    check(lambda x: getattr(x.t(), op)(**kwargs), [a], grad=False)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum(dim, dtype):
    check(lambda x: x.cumsum(dim), [rand(3, 4, dtype=dtype)])
    check(lambda x: x.t().cumsum(dim), [rand(3, 4, dtype=dtype)], gradcheck=False)
    check(lambda x: (ember if isinstance(x, ember.Tensor) else torch).cumsum(x[:, ::2], dim=dim),
          [rand(3, 4, dtype=dtype)], gradcheck=False)


def test_cumsum_dtype_argument():
    check(lambda x: x.cumsum(0, dtype=ember.float64 if isinstance(x, ember.Tensor) else torch.float64),
          [np.array([1, 2, 3])], grad=False)


def test_std_of_constant_has_zero_gradient():
    # torch's second derivative there w.r.t. the incoming gradient is NaN; ember's is 0.
    a = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    check(lambda x: x.std(1), [a], gradcheck=False, double=False)


@pytest.mark.parametrize("op", ["sum", "mean", "var", "std", "amax", "norm"])
def test_empty_dim_list_reduces_everything(op):
    # torch's var/std backward with dim=() disagrees with its own forward (inf): values only.
    grad = op not in ("var", "std")
    check(lambda x: getattr(x, op)(dim=()), [distinct(2, 3)], grad=grad)
    check(lambda x: getattr(x, op)(dim=[], keepdim=True), [distinct(2, 3)], grad=grad, gradcheck=False)


def test_max_dim_of_zero_dim_tensor():
    check(lambda x: tuple(x.max(0)), [np.array(1.5)])
    check(lambda x: tuple(x.min(-1, keepdim=True)), [np.array(1.5)])


def test_inf_norm_of_empty_raises():
    with pytest.raises(RuntimeError, match="cannot compute the inf norm on an empty tensor"):
        ember.zeros(0).norm(INF)


@pytest.mark.parametrize("fn", [
    lambda x: x.sum(), lambda x: x.mean(), lambda x: x.prod(), lambda x: x.max(), lambda x: x.amin(),
    lambda x: x.std(), lambda x: x.var(), lambda x: x.norm(), lambda x: x.norm(3), lambda x: x.logsumexp((0, 1)),
    lambda x: x[0].max(0).values, lambda x: x[0, 0].cumsum(0), lambda x: x.norm(dim=()),
])
def test_zero_dim_results_can_be_written_in_place(fn):
    y = fn(ember.tensor(distinct(2, 3)))
    before = y.item()
    y.add_(1)
    y[...] = y * 2
    assert y.item() == pytest.approx((before + 1) * 2)
