"""scaled_dot_product_attention against torch 2.13: values, gradients and double
backward against torch's math path (its default CPU kernel has no double backward),
the default path where the two differ, dropout, and bad input."""

import math

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.oracle import as_numpy, check, current_device, same_outcome, torch

from torch.nn.attention import SDPBackend, sdpa_kernel

TF = torch.nn.functional
DTYPES = [np.float64, np.float32]


def _r(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _bool(shape, seed=0, p=0.7):
    return np.random.default_rng(seed).random(shape) < p


def _math_sdpa(*args, **kwargs):
    with sdpa_kernel(SDPBackend.MATH):
        return TF.scaled_dot_product_attention(*args, **kwargs)


def _check(inputs, **kwargs):
    check(lambda *a: EF.scaled_dot_product_attention(*a, **kwargs), inputs,
          lambda *a: _math_sdpa(*a, **kwargs))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("q,k,v", [
    ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)),   # value size differs from E
    ((3, 4, 5), (3, 6, 5), (3, 6, 5)),
    ((4, 5), (6, 5), (6, 5)),                     # no batch dimension
    ((2, 2, 3, 4), (2, 5, 4), (1, 2, 5, 4)),      # batch dimensions broadcast
    ((1, 2, 2, 3, 4), (1, 2, 2, 5, 4), (1, 2, 2, 5, 4)),
])
def test_shapes(q, k, v, dtype):
    _check([_r(q, dtype), _r(k, dtype, 1), _r(v, dtype, 2)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask_shape", [(3, 5), (2, 1, 3, 5), (1, 2, 1, 5), (5,), (2, 2, 3, 5)])
def test_bool_mask(mask_shape, dtype):
    mask = _bool(mask_shape, 3)
    mask[..., 0] = True   # every query keeps a key
    _check([_r((2, 2, 3, 4), dtype), _r((2, 2, 5, 4), dtype, 1), _r((2, 2, 5, 4), dtype, 2), mask])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask_shape", [(3, 5), (2, 1, 5), (2, 2, 3, 5)])
def test_float_mask_and_its_gradient(mask_shape, dtype):
    _check([_r((2, 2, 3, 4), dtype), _r((2, 2, 5, 4), dtype, 1), _r((2, 2, 5, 4), dtype, 2),
            _r(mask_shape, dtype, 3)])


def test_float32_mask_with_float64_inputs():
    _check([_r((2, 3, 4)), _r((2, 5, 4), seed=1), _r((2, 5, 4), seed=2), _r((3, 5), np.float32, 3)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("L,S", [(4, 6), (6, 4), (5, 5)])
def test_is_causal_aligned_upper_left(L, S, dtype):
    _check([_r((2, L, 4), dtype), _r((2, S, 4), dtype, 1), _r((2, S, 4), dtype, 2)], is_causal=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_scale(dtype):
    _check([_r((2, 3, 4), dtype), _r((2, 5, 4), dtype, 1), _r((2, 5, 4), dtype, 2)], scale=0.3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k_heads,v_heads", [(2, 2), (1, 4), (4, 1)])
def test_grouped_query_attention(k_heads, v_heads, dtype):
    _check([_r((1, 4, 3, 4), dtype), _r((1, k_heads, 5, 4), dtype, 1), _r((1, v_heads, 5, 4), dtype, 2)],
           enable_gqa=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_fully_masked_rows_give_zeros_as_torch_default(kind, dtype):
    if kind == "bool":
        mask = np.ones((3, 5), dtype=bool)
        mask[1] = False
    else:
        mask = np.zeros((3, 5), dtype=dtype)
        mask[1] = -np.inf
    inputs = [_r((2, 2, 3, 4), dtype), _r((2, 2, 5, 4), dtype, 1), _r((2, 2, 5, 4), dtype, 2), mask]
    # torch's default CPU kernel (and its math path) give zeros there; no double backward
    check(EF.scaled_dot_product_attention, inputs, TF.scaled_dot_product_attention, double=False)
    out = EF.scaled_dot_product_attention(*[ember.tensor(x, device=current_device()) for x in inputs])
    assert not as_numpy(out)[:, :, 1].any()


def test_fully_masked_rows_double_backward_is_finite():
    mask = np.ones((3, 5), dtype=bool)
    mask[2] = False
    _check([_r((2, 3, 4)), _r((2, 5, 4), seed=1), _r((2, 5, 4), seed=2), mask])


def test_no_keys():
    _check([_r((2, 3, 4)), _r((2, 0, 4), seed=1), _r((2, 0, 3), seed=2)])


def _randn(*shape):
    return ember.randn(*shape, dtype=ember.float64, device=current_device())


def test_dropout_scales_the_kept_weights():
    ember.manual_seed(0)
    q, k = _randn(2, 3, 6, 4), _randn(2, 3, 7, 4)
    eye = ember.eye(7, dtype=ember.float64, device=current_device())   # value = identity: the output is the weights
    weights = as_numpy(EF.scaled_dot_product_attention(q, k, eye))
    dropped = as_numpy(EF.scaled_dot_product_attention(q, k, eye, dropout_p=0.4))
    kept = dropped != 0
    assert 0.4 < kept.mean() < 0.8
    np.testing.assert_allclose(dropped[kept], weights[kept] / 0.6, rtol=1e-12)
    assert not as_numpy(EF.scaled_dot_product_attention(q, k, eye, dropout_p=1.0)).any()


def test_dropout_gradcheck():
    k, v = _randn(2, 6, 4), _randn(2, 6, 3)

    def attend(q):
        ember.manual_seed(3)   # the same dropout mask at every evaluation
        return EF.scaled_dot_product_attention(q, k, v, dropout_p=0.5)

    q = _randn(2, 5, 4).requires_grad_()
    assert ember.autograd.gradcheck(attend, [q], eps=1e-6, atol=1e-5)


def _sdpa_case(shapes, dtype=np.float64, **kwargs):
    inputs = [x if isinstance(x, np.ndarray) else _r(x, dtype, i) for i, x in enumerate(shapes)]
    same_outcome(lambda *a: EF.scaled_dot_product_attention(*a, **kwargs), inputs,
                 lambda *a: _math_sdpa(*a, **kwargs), raises=RuntimeError, what=str(kwargs))


QKV = [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8)]


@pytest.mark.parametrize("shapes,kwargs", [
    (QKV + [np.ones((4, 5), dtype=bool)], dict(is_causal=True)),    # both a mask and is_causal
    (QKV + [np.ones((4, 5), dtype=np.int64)], {}),                   # integer mask
    (QKV + [np.ones((3, 5), dtype=bool)], {}),                       # mask of the wrong shape
    (QKV + [np.ones((1, 1, 1, 1, 4, 5), dtype=bool)], {}),           # mask with more dimensions
    (QKV[:1] + [(2, 3, 5, 7), (2, 3, 5, 8)], {}),                    # E of query and key differ
    (QKV[:2] + [(2, 3, 4, 8)], {}),                                  # S of key and value differ
    ([(2, 3, 4, 8), (2, 2, 5, 8), (2, 2, 5, 8)], {}),               # heads differ without GQA
    ([(2, 3, 4, 8), (2, 2, 5, 8), (2, 2, 5, 8)], dict(enable_gqa=True)),   # 2 does not divide 3
    (QKV, dict(dropout_p=1.5)),
])
def test_errors_as_torch(shapes, kwargs):
    _sdpa_case(shapes, **kwargs)


def test_float64_mask_with_float32_inputs_is_refused():
    _sdpa_case([_r(s, np.float32, i) for i, s in enumerate(QKV)] + [np.zeros((4, 5))])


def test_errors():
    q = ember.randn(2, 4, 8)
    with pytest.raises(RuntimeError, match="same dtype"):
        EF.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match="at least 2-D"):
        EF.scaled_dot_product_attention(q[0, 0], q[0, 0], q[0, 0])
    with pytest.raises(RuntimeError, match="floating"):
        EF.scaled_dot_product_attention(q.long(), q.long(), q.long())
    with pytest.raises(TypeError, match="query"):
        EF.scaled_dot_product_attention(q.numpy(), q, q)
    with pytest.raises(TypeError, match="attn_mask"):
        EF.scaled_dot_product_attention(q, q, q, attn_mask=[[True]])
    with pytest.raises(IndexError, match="heads"):
        EF.scaled_dot_product_attention(q[0], q[0], q[0], enable_gqa=True)
    with pytest.raises(RuntimeError, match="dropout_p"):
        EF.scaled_dot_product_attention(q, q, q, dropout_p=-0.1)
    assert math.isfinite(EF.scaled_dot_product_attention(q, q, q, scale=0.0).sum().item())
