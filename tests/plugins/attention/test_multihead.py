"""multi_head_attention_forward and MultiheadAttention against torch 2.13: values and
gradients of inputs, weights and biases; masks, layouts and options; state dicts;
initialisation; bad input."""

import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.oracle import as_numpy, assert_same, check, current_device, same_outcome, torch

TF = torch.nn.functional
DTYPES = [np.float64, np.float32]
E, H, L, S, N = 6, 2, 3, 4, 2


def _r(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _e(x):
    """A NumPy array as an ember tensor on the test's device."""
    return ember.tensor(x, device=current_device())


def _kpm(batched=True):
    """A padding mask (True = leave out) that leaves every query some key."""
    mask = np.zeros((N, S) if batched else (S,), dtype=bool)
    mask[..., -1] = True
    if batched:
        mask[1, 1] = True
    return mask


def _attn_mask(shape):
    mask = np.random.default_rng(5).random(shape) < 0.3
    mask[..., 0] = False
    return mask


# --- the functional -------------------------------------------------------------------

def _mha(need_weights=True, **kwargs):
    """``(q, k, v, w_in, b_in, w_out, b_out, *masks)`` -> both libraries' call."""

    def call(lib_fn):
        def run(q, k, v, w_in, b_in, w_out, b_out, kpm=None, mask=None):
            return _tensors(lib_fn(q, k, v, E, H, w_in, b_in, None, None, False, 0.0, w_out, b_out,
                                   key_padding_mask=kpm, attn_mask=mask, need_weights=need_weights, **kwargs))
        return run

    return call(EF.multi_head_attention_forward), call(TF.multi_head_attention_forward)


def _tensors(result):
    """``(output, weights)`` without a None weights."""
    return tuple(x for x in result if x is not None)


def _weights(dtype):
    """Projection weights and biases of a trained model's size (entries ~ 1/sqrt(E))."""
    return [(0.4 * _r(shape, np.float64, seed)).astype(dtype)
            for seed, shape in enumerate([(3 * E, E), (3 * E,), (E, E), (E,)], 10)]


def _double(need_weights, dtype):
    """Whether to compare double backward: torch's default CPU attention kernel (taken
    without need_weights) has none, and float32 rounding of second derivatives of the
    softmax chain outgrows float32's tolerance."""
    return need_weights and dtype == np.float64


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("batched", [True, False])
def test_functional_self_and_cross_attention(batched, need_weights, dtype):
    shape = (L, N, E) if batched else (L, E)
    kv_shape = (S, N, E) if batched else (S, E)
    e_fn, t_fn = _mha(need_weights)
    check(e_fn, [_r(shape, dtype), _r(kv_shape, dtype, 1), _r(kv_shape, dtype, 2)] + _weights(dtype),
          t_fn, double=_double(need_weights, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("need_weights", [True, False])
def test_functional_packed_projection_shortcuts(need_weights, dtype):
    """query is key is value (one product) and key is value (two) give torch's values and gradients."""
    e_fn, t_fn = _mha(need_weights)
    check(lambda x, *w: e_fn(x, x, x, *w), [_r((L, N, E), dtype)] + _weights(dtype),
          lambda x, *w: t_fn(x, x, x, *w), double=_double(need_weights, dtype))
    check(lambda q, kv, *w: e_fn(q, kv, kv, *w), [_r((L, N, E), dtype), _r((S, N, E), dtype, 1)] + _weights(dtype),
          lambda q, kv, *w: t_fn(q, kv, kv, *w), double=_double(need_weights, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("masks", ["kpm", "attn2d", "attn3d", "both"])
def test_functional_masks(masks, kind, need_weights, dtype):
    kpm = _kpm() if masks in ("kpm", "both") else None
    attn = None
    if masks != "kpm":
        attn = _attn_mask((L, S) if masks in ("attn2d", "both") else (N * H, L, S))
    if kind == "float":   # float masks are added: -inf leaves out, finite values weigh
        kpm = None if kpm is None else np.where(kpm, -np.inf, _r(kpm.shape, dtype, 7)).astype(dtype)
        attn = None if attn is None else np.where(attn, -np.inf, _r(attn.shape, dtype, 8)).astype(dtype)
    e_fn, t_fn = _mha(need_weights)
    inputs = [_r((L, N, E), dtype), _r((S, N, E), dtype, 1), _r((S, N, E), dtype, 2)] + _weights(dtype)
    check(lambda *a: e_fn(*a[:7], kpm=a[7], mask=a[8]), inputs + [kpm, attn],
          lambda *a: t_fn(*a[:7], kpm=a[7], mask=a[8]), double=_double(need_weights, dtype), gradcheck=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_average_attn_weights_off(dtype):
    e_fn, t_fn = _mha(average_attn_weights=False)
    check(e_fn, [_r((L, N, E), dtype), _r((S, N, E), dtype, 1), _r((S, N, E), dtype, 2)] + _weights(dtype), t_fn,
          double=_double(True, dtype), gradcheck=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("zero_attn", [True, False])
def test_functional_bias_kv_and_zero_attn(zero_attn, dtype):
    def call(lib_fn):
        def run(q, k, v, w_in, b_in, w_out, b_out, bias_k, bias_v, kpm, mask):
            return lib_fn(q, k, v, E, H, w_in, b_in, bias_k, bias_v, zero_attn, 0.0, w_out, b_out,
                          key_padding_mask=kpm, attn_mask=mask)
        return run

    inputs = ([_r((L, N, E), dtype), _r((S, N, E), dtype, 1), _r((S, N, E), dtype, 2)] + _weights(dtype)
              + [_r((1, 1, E), dtype, 3), _r((1, 1, E), dtype, 4), _kpm(), _attn_mask((L, S))])
    check(call(EF.multi_head_attention_forward), inputs, call(TF.multi_head_attention_forward),
          double=_double(True, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_separate_projections_and_static_kv(dtype):
    kdim, vdim = 5, 3

    def call(lib_fn, static):
        def run(q, k, v, w_q, w_k, w_v, b_in, w_out, b_out, s_k, s_v):
            return lib_fn(q, k, v, E, H, None, b_in, None, None, False, 0.0, w_out, b_out,
                          use_separate_proj_weight=True, q_proj_weight=w_q, k_proj_weight=w_k,
                          v_proj_weight=w_v, static_k=s_k if static else None,
                          static_v=s_v if static else None)
        return run

    inputs = [_r((L, N, E), dtype), _r((S, N, kdim), dtype, 1), _r((S, N, vdim), dtype, 2),
              _r((E, E), dtype, 3), _r((E, kdim), dtype, 4), _r((E, vdim), dtype, 5), _r(3 * E, dtype, 6),
              _r((E, E), dtype, 7), _r(E, dtype, 8), _r((N * H, 5, E // H), dtype, 9),
              _r((N * H, 5, E // H), dtype, 10)]
    for static in (False, True):
        check(call(EF.multi_head_attention_forward, static), inputs, call(TF.multi_head_attention_forward, static),
              double=_double(True, dtype))


def test_fully_masked_rows_as_torch():
    """A query with every key left out: NaN weights and output with need_weights (torch's
    softmax), zeros through scaled_dot_product_attention without."""
    kpm = np.zeros((N, S), dtype=bool)
    kpm[1] = True
    inputs = [_r((L, N, E)), _r((S, N, E), seed=1), _r((S, N, E), seed=2)] + _weights(np.float64) + [kpm]
    for need_weights in (True, False):
        e_fn, t_fn = _mha(need_weights)
        check(e_fn, inputs, t_fn, grad=False)


def test_is_causal_hint_with_its_mask():
    causal = np.triu(np.ones((L, L), dtype=bool), 1)
    for need_weights in (True, False):
        e_fn, t_fn = _mha(need_weights, is_causal=True)
        check(lambda x, *a: e_fn(x, x, x, *a), [_r((L, N, E))] + _weights(np.float64) + [None, causal],
              lambda x, *a: t_fn(x, x, x, *a), double=False, gradcheck=False)


# --- the module -----------------------------------------------------------------------

def _pair(dtype=np.float64, **kwargs):
    """A torch module and an ember one loaded with its state dict."""
    torch.manual_seed(0)
    t_m = torch.nn.MultiheadAttention(E, H, **kwargs).to(torch.float64 if dtype == np.float64 else torch.float32)
    e_m = ember.nn.MultiheadAttention(E, H, **kwargs).to(ember.float64 if dtype == np.float64 else ember.float32)
    e_m.load_state_dict({k: ember.tensor(as_numpy(v)) for k, v in t_m.state_dict().items()})
    return e_m.to(current_device()), t_m


def _module_check(e_m, t_m, inputs, *, self_attention=False, double=True, **forward):
    """ember's module is torch's: outputs, and gradients of the inputs and of every parameter."""
    names = [n for n, _ in t_m.named_parameters()]
    params = [as_numpy(p) for p in t_m.parameters()]
    count = 1 if self_attention else 3

    def e_fn(*args):
        for name, p in zip(names, args[count:]):
            *path, leaf = name.split(".")
            owner = e_m
            for part in path:
                owner = getattr(owner, part)
            owner._parameters[leaf] = p
        xs = args[:count] * 3 if self_attention else args[:count]
        return _tensors(e_m(*xs, **_library_values(forward, _e)))

    def t_fn(*args):
        xs = args[:count] * 3 if self_attention else args[:count]
        return _tensors(torch.func.functional_call(t_m, dict(zip(names, args[count:])), xs,
                                                   _library_values(forward, torch.tensor)))

    check(e_fn, list(inputs) + params, t_fn, double=double, gradcheck=False)


def _library_values(kwargs, tensor):
    """``kwargs`` with NumPy arrays made tensors by ``tensor``."""
    return {k: tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


def _inputs(dtype, batch_first=False, batched=True, kdim=E, vdim=E):
    def shape(length, size):
        if not batched:
            return (length, size)
        return (N, length, size) if batch_first else (length, N, size)
    return [_r(shape(L, E), dtype), _r(shape(S, kdim), dtype, 1), _r(shape(S, vdim), dtype, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("need_weights", [True, False])
def test_module(batch_first, batched, need_weights, dtype):
    e_m, t_m = _pair(dtype, batch_first=batch_first)
    _module_check(e_m, t_m, _inputs(dtype, batch_first, batched), need_weights=need_weights,
                  double=_double(need_weights, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [
    dict(kdim=5, vdim=3), dict(add_bias_kv=True), dict(add_zero_attn=True), dict(bias=False),
    dict(add_bias_kv=True, add_zero_attn=True, bias=False, kdim=4, vdim=4),
])
def test_module_options(options, dtype):
    e_m, t_m = _pair(dtype, **options)
    inputs = _inputs(dtype, kdim=options.get("kdim", E), vdim=options.get("vdim", E))
    _module_check(e_m, t_m, inputs, key_padding_mask=_kpm(), average_attn_weights=False,
                  double=_double(True, dtype))


@pytest.mark.parametrize("batch_first", [False, True])
def test_module_self_attention(batch_first):
    e_m, t_m = _pair(batch_first=batch_first)
    _module_check(e_m, t_m, _inputs(np.float64, batch_first)[:1], self_attention=True,
                  attn_mask=np.triu(np.ones((L, L), dtype=bool), 1), is_causal=True)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_module_masks_unbatched(kind):
    e_m, t_m = _pair()
    kpm, attn = _kpm(batched=False), _attn_mask((H, L, S))
    if kind == "float":
        kpm, attn = np.where(kpm, -np.inf, 0.5), np.where(attn, -np.inf, -0.25)
    e_in, t_in = [_e(x) for x in _inputs(np.float64, batched=False)], [
        torch.tensor(x) for x in _inputs(np.float64, batched=False)]
    e_out = e_m(*e_in, key_padding_mask=_e(kpm), attn_mask=_e(attn))
    t_out = t_m(*t_in, key_padding_mask=torch.tensor(kpm), attn_mask=torch.tensor(attn))
    assert_same(e_out, t_out)


def test_module_dropout_trains_and_evaluates():
    e_m, t_m = _pair(dropout=0.5)
    e_in = [_e(x) for x in _inputs(np.float64)]
    ember.manual_seed(0)
    dropped = as_numpy(e_m(*e_in, average_attn_weights=False)[1])
    e_m.eval()
    t_m.eval()
    weights = as_numpy(e_m(*e_in, average_attn_weights=False)[1])
    kept = dropped != 0
    assert 0.2 < kept.mean() < 0.8
    np.testing.assert_allclose(dropped[kept], 2 * weights[kept], rtol=1e-12)
    assert_same(e_m(*e_in), t_m(*[torch.tensor(x) for x in _inputs(np.float64)]))


@pytest.mark.parametrize("need_weights", [True, False])
def test_module_as_torchs_inference_fast_path(need_weights):
    """torch evaluates batch-first self-attention without gradients in one native kernel."""
    e_m, t_m = _pair(batch_first=True)
    e_m.eval()
    t_m.eval()
    x, kpm = _r((N, L, E)), _kpm()[:, :L]
    with torch.no_grad():
        t_x = torch.tensor(x)
        t_out = t_m(t_x, t_x, t_x, key_padding_mask=torch.tensor(kpm), need_weights=need_weights)
    e_x = _e(x)
    assert_same(e_m(e_x, e_x, e_x, key_padding_mask=_e(kpm), need_weights=need_weights), t_out)


def test_state_dict_round_trip_and_repr():
    for options in (dict(), dict(kdim=5, vdim=3, add_bias_kv=True), dict(bias=False)):
        t_m = torch.nn.MultiheadAttention(E, H, **options)
        e_m = ember.nn.MultiheadAttention(E, H, **options)
        assert list(e_m.state_dict()) == list(t_m.state_dict())
        assert [n for n, _ in e_m.named_parameters()] == [n for n, _ in t_m.named_parameters()]
        assert repr(e_m) == repr(t_m)
        e_m.load_state_dict({k: ember.tensor(as_numpy(v)) for k, v in t_m.state_dict().items()})
        back = {k: torch.tensor(as_numpy(v)) for k, v in e_m.state_dict().items()}
        t_m.load_state_dict(back)
        for k, v in t_m.state_dict().items():
            np.testing.assert_array_equal(as_numpy(e_m.state_dict()[k]), as_numpy(v))


def test_initialisation():
    ember.manual_seed(0)
    m = ember.nn.MultiheadAttention(64, 4, add_bias_kv=True)
    w = as_numpy(m.in_proj_weight)
    bound = math.sqrt(6 / (64 + 3 * 64))   # xavier uniform over (3E, E)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not as_numpy(m.in_proj_bias).any() and not as_numpy(m.out_proj.bias).any()
    out_bound = 1 / math.sqrt(64)   # the output projection keeps Linear's initialisation
    assert np.abs(as_numpy(m.out_proj.weight)).max() <= out_bound
    bias_k = as_numpy(m.bias_k)
    assert bias_k.shape == (1, 1, 64) and 0.5 * math.sqrt(2 / 65) < bias_k.std() < 1.5 * math.sqrt(2 / 65)
    separate = ember.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, dtype=ember.float64)
    assert separate.in_proj_weight is None and separate.k_proj_weight.shape == (8, 3)
    assert separate.v_proj_weight.dtype is ember.float64


def test_merge_masks_as_torch():
    e_m, t_m = _pair()
    x = _r((N, L, E))
    attn, kpm = np.where(_attn_mask((L, L)), -np.inf, 0.0), np.where(_kpm()[:, :L], -np.inf, 0.0)
    for a, k in ((attn, kpm), (attn, None), (None, kpm), (None, None), (_r((N * H, L, L)), kpm)):
        e = e_m.merge_masks(*(None if m is None else _e(m) for m in (a, k)), _e(x))
        t = t_m.merge_masks(*(None if m is None else torch.tensor(m) for m in (a, k)), torch.tensor(x))
        assert_same(e, t)


# --- bad input ------------------------------------------------------------------------

def _module_case(forward, **options):
    """The same call on torch's module and on ember's (same weights); same outcome."""
    def case(lib):
        torch.manual_seed(0)
        t_m = torch.nn.MultiheadAttention(E, H, **options).double()
        if lib is torch:
            return t_m(*forward(torch))
        e_m = ember.nn.MultiheadAttention(E, H, **options).double()
        e_m.load_state_dict({k: ember.tensor(as_numpy(v)) for k, v in t_m.state_dict().items()})
        return e_m(*forward(ember))
    same_outcome(case, raises=True, quiet=True)


def _x(lib, shape, dtype="float64"):
    return lib.ones(shape, dtype=getattr(lib, dtype))


@pytest.mark.parametrize("forward", [
    lambda lib: (_x(lib, (L, N, E + 1)),) * 3,                                   # wrong embed dim
    lambda lib: (_x(lib, (L, N, E)), _x(lib, (S, N, E)), _x(lib, (S + 1, N, E))),  # key/value differ
    lambda lib: (_x(lib, (1, L, N, E)),) * 3,                                    # 4-D query
    lambda lib: (_x(lib, (L, N, E)), _x(lib, (S, E)), _x(lib, (S, E))),          # batched query, unbatched key
    lambda lib: (_x(lib, (L, N, E)),) * 3 + (_x(lib, (N, L + 1), "bool"),),      # key_padding_mask shape
    lambda lib: (_x(lib, (L, N, E)),) * 3 + (_x(lib, (N,), "bool"),),            # key_padding_mask 1-D
    lambda lib: (_x(lib, (L, N, E)),) * 3 + (_x(lib, (N, L), "int64"),),         # key_padding_mask dtype
    lambda lib: (_x(lib, (L, N, E)),) * 3 + (None, True, _x(lib, (L, L + 1), "bool")),   # 2-D mask shape
    lambda lib: (_x(lib, (L, N, E)),) * 3 + (None, True, _x(lib, (N, L, L), "bool")),    # 3-D mask shape
    lambda lib: (_x(lib, (L, N, E)),) * 3 + (None, True, _x(lib, (L,), "bool")),         # 1-D mask
    lambda lib: (_x(lib, (L, N, E)),) * 3 + (None, True, _x(lib, (L, L), "int64")),      # mask dtype
    lambda lib: (_x(lib, (L, N, E)),) * 3 + (None, True, None, True, True),              # is_causal, no mask
    lambda lib: (_x(lib, (L, E)),) * 3 + (None, True, _x(lib, (N * H, L, L), "bool")),   # unbatched 3-D mask
])
def test_module_errors_as_torch(forward):
    _module_case(forward)


@pytest.mark.parametrize("args", [(6, 4), (0, 2), (6, 0), (-6, 2)])
def test_constructor_errors_as_torch(args):
    same_outcome(lambda lib: lib.nn.MultiheadAttention(*args), raises=True)


def test_functional_errors_as_torch():
    def case(num_heads=H, in_w=(3 * E, E), b_k=None, b_v=None, s_k=None, **kwargs):
        def run(lib):
            x = lib.ones((L, N, E), dtype=lib.float64)
            w = None if in_w is None else lib.ones(in_w, dtype=lib.float64)
            k = None if b_k is None else lib.ones(b_k, dtype=lib.float64)
            v = None if b_v is None else lib.ones(b_v, dtype=lib.float64)
            static = None if s_k is None else lib.ones(s_k, dtype=lib.float64)
            return lib.nn.functional.multi_head_attention_forward(
                x, x, x, E, num_heads, w, None, k, v, False, 0.0, lib.ones((E, E), dtype=lib.float64), None,
                static_k=static, **kwargs)
        same_outcome(run, raises=True, quiet=True)

    case(num_heads=4)                                   # 4 does not divide 6
    case(in_w=None)                                     # no packed weight
    case(use_separate_proj_weight=True)                 # no separate weights
    case(b_k=(1, 1, E))                                 # bias_k without bias_v
    case(b_v=(1, 1, E))
    case(b_k=(1, 1, E), b_v=(1, 1, E), s_k=(N * H, S, E // H))   # bias with a static key
    case(s_k=(N * H + 1, L, E // H))                    # static key of the wrong size
    case(s_k=(N * H, L, E // H + 1))


def test_mismatched_mask_types_warn_as_torch():
    e_m, t_m = _pair()
    x = _inputs(np.float64)
    kpm, attn = _kpm(), np.where(_attn_mask((L, S)), -np.inf, 0.0)
    with warnings.catch_warnings(record=True) as e_w:
        warnings.simplefilter("always")
        e_out = e_m(*[_e(a) for a in x], key_padding_mask=_e(kpm), attn_mask=_e(attn))
    with warnings.catch_warnings(record=True) as t_w:
        warnings.simplefilter("always")
        t_out = t_m(*[torch.tensor(a) for a in x], key_padding_mask=torch.tensor(kpm), attn_mask=torch.tensor(attn))
    assert_same(e_out, t_out)
    assert [str(w.message) for w in e_w] == [str(w.message) for w in t_w if "mismatched" in str(w.message)]
    assert e_w
