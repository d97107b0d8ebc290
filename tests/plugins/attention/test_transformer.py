"""Transformer, TransformerEncoder/Decoder and their layers against torch 2.13 with
copied weights: outputs and the gradients of the inputs and of every parameter, in
float64 and float32, train mode (dropout 0) and eval mode, pre- and post-norm, both
layouts, every kind of activation, masks, unbatched inputs; plus state_dict keys,
loading torch's weights, construction details and errors.

float32 tolerances are looser than a single op's: a layer chains a dozen ops
(projections, softmax, layer norms) and the rounding of each adds up.
"""

import numpy as np
import pytest

import ember
from tests.oracle import as_numpy, same_outcome, torch
from tests.plugins.library_tensors import lib_tensor

TOLS = {np.float64: dict(rtol=1e-7, atol=1e-9), np.float32: dict(rtol=1e-4, atol=2e-5)}
E_DT = {np.float64: ember.float64, np.float32: ember.float32}
T_DT = {np.float64: torch.float64, np.float32: torch.float32}
D_MODEL, NHEAD, FF = 8, 2, 12

# torch's notice that its encoder cannot use nested tensors (ember has none)
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")


def _r(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _load_torch_weights(t_m, e_m):
    """Copy torch's state dict into ember's module, after checking that the keys agree."""
    state = {k: ember.tensor(v.detach().numpy()) for k, v in t_m.state_dict().items()}
    assert list(e_m.state_dict()) == list(state)
    e_m.load_state_dict(state)


def _layer_pair(lib_args, dtype, **kw):
    """torch's and ember's module built by ``lib_args(L)`` (``L`` the library), ember's
    holding torch's weights."""
    torch.manual_seed(0)
    t_m = lib_args(torch, **kw).to(T_DT[dtype])
    e_m = lib_args(ember, **kw).to(E_DT[dtype])
    _load_torch_weights(t_m, e_m)
    return t_m, e_m


def _encoder_layer(L, **kw):
    return L.nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF, **{"dropout": 0.0, **kw})


def _decoder_layer(L, **kw):
    return L.nn.TransformerDecoderLayer(D_MODEL, NHEAD, FF, **{"dropout": 0.0, **kw})


def _encoder(L, **kw):
    norm = L.nn.LayerNorm(D_MODEL)
    return L.nn.TransformerEncoder(_encoder_layer(L, **kw), 2, norm, enable_nested_tensor=False)


def _decoder(L, **kw):
    return L.nn.TransformerDecoder(_decoder_layer(L, **kw), 2)


def _transformer(L, **kw):
    return L.nn.Transformer(D_MODEL, NHEAD, 2, 2, FF, **{"dropout": 0.0, **kw})


def _compare(t_m, e_m, inputs, masks, dtype, device, train=True):
    """Run both modules on ``inputs`` (arrays, given positionally) and ``masks`` (a dict
    of keyword arrays, passed as they are); compare the outputs and every gradient."""
    e_m.to(device)
    t_m.train(train)
    e_m.train(train)
    t_in = [lib_tensor(torch, a, "cpu", requires_grad=True) for a in inputs]
    e_in = [lib_tensor(ember, a, device, requires_grad=True) for a in inputs]
    t_kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in masks.items()}
    e_kw = {k: lib_tensor(ember, v, device) if isinstance(v, np.ndarray) else v for k, v in masks.items()}
    t_out = t_m(*t_in, **t_kw)
    e_out = e_m(*e_in, **e_kw)
    assert tuple(e_out.shape) == tuple(t_out.shape)
    assert e_out.dtype.name == str(t_out.dtype).replace("torch.", "")
    np.testing.assert_allclose(as_numpy(e_out), t_out.detach().numpy(), **TOLS[dtype], err_msg="output")
    weights = _r(tuple(t_out.shape), dtype, seed=7)
    (t_out * torch.tensor(weights)).sum().backward()
    (e_out * lib_tensor(ember, weights, device)).sum().backward()
    for i, (e, t) in enumerate(zip(e_in, t_in)):
        np.testing.assert_allclose(as_numpy(e.grad), t.grad.numpy(), **TOLS[dtype], err_msg=f"grad input {i}")
    e_params = dict(e_m.named_parameters())
    t_params = dict(t_m.named_parameters())
    assert list(e_params) == list(t_params)
    for name, p in t_params.items():
        np.testing.assert_allclose(as_numpy(e_params[name].grad), p.grad.numpy(), **TOLS[dtype],
                                   err_msg=f"grad {name}")


def _shape(seq, batch, batch_first):
    if batch is None:
        return (seq, D_MODEL)
    return (batch, seq, D_MODEL) if batch_first else (seq, batch, D_MODEL)


def _inputs(kind, dtype, batch_first, batch=2, src_len=5, tgt_len=4):
    """The positional inputs of a module of ``kind``: (src,), (tgt, memory) or (src, tgt)."""
    src = _r(_shape(src_len, batch, batch_first), dtype, seed=1)
    tgt = _r(_shape(tgt_len, batch, batch_first), dtype, seed=2)
    return {"encoder": (src,), "decoder": (tgt, src), "transformer": (src, tgt)}[kind]


BUILDERS = {"encoder_layer": (_encoder_layer, "encoder"), "decoder_layer": (_decoder_layer, "decoder"),
            "encoder": (_encoder, "encoder"), "decoder": (_decoder, "decoder"),
            "transformer": (_transformer, "transformer")}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("name", list(BUILDERS))
def test_against_torch(name, batch_first, norm_first, dtype, device):
    build, kind = BUILDERS[name]
    t_m, e_m = _layer_pair(build, dtype, batch_first=batch_first, norm_first=norm_first)
    _compare(t_m, e_m, _inputs(kind, dtype, batch_first), {}, dtype, device, train=not norm_first)


def _gelu_tanh(L):
    return L.nn.GELU(approximate="tanh")


# torch's TransformerDecoderLayer.__setstate__ puts F.relu in the instance dict when
# "activation" is not there, which is always the case for a Module activation (it lives
# in _modules): every deep copy of such a decoder layer, as in TransformerDecoder and
# Transformer, silently runs ReLU in torch. ember keeps the given activation, so a
# Module activation is compared only where torch does not copy a decoder layer.
ACTIVATION_CASES = [(name, act) for name in ("encoder_layer", "decoder_layer", "encoder", "transformer")
                    for act in ("relu", "gelu", "module", "function")
                    if not (name == "transformer" and act == "module")]


@pytest.mark.parametrize("name, activation", ACTIVATION_CASES)
def test_activations(name, activation, device):
    build, kind = BUILDERS[name]

    def make(L):
        act = {"module": _gelu_tanh(L), "function": L.nn.functional.silu}.get(activation, activation)
        return build(L, activation=act)

    t_m, e_m = _layer_pair(make, np.float64)
    _compare(t_m, e_m, _inputs(kind, np.float64, False), {}, np.float64, device)


def test_activation_attribute():
    layer = ember.nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF)
    assert layer.activation is ember.nn.functional.relu
    layer = ember.nn.TransformerDecoderLayer(D_MODEL, NHEAD, FF, activation="gelu")
    assert layer.activation is ember.nn.functional.gelu
    gelu = ember.nn.GELU()
    layer = ember.nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF, activation=gelu)
    assert layer.activation is gelu and "activation" in dict(layer.named_children())


def _padding(batch, length, batch_first=None):
    """A bool key padding mask hiding the last position of every other sequence
    (``(length,)`` when ``batch`` is None)."""
    mask = np.zeros((batch or 1, length), dtype=bool)
    mask[::2, -1] = True
    return mask[0] if batch is None else mask


def _causal(length, kind, dtype):
    mask = np.triu(np.ones((length, length), dtype=bool), 1)
    return mask if kind == "bool" else np.where(mask, -np.inf, 0.0).astype(dtype)


def _float_padding(mask, dtype):
    return np.where(mask, -np.inf, 0.0).astype(dtype)


@pytest.mark.parametrize("batch", [2, None], ids=["batched", "unbatched"])
@pytest.mark.parametrize("mask_kind", ["bool", "float"])
@pytest.mark.parametrize("name", list(BUILDERS))
def test_masks(name, mask_kind, batch, device):
    """Causal attention masks and key padding masks, all of one kind (bool or float)."""
    dtype = np.float64
    build, kind = BUILDERS[name]
    t_m, e_m = _layer_pair(build, dtype)
    pad = {"bool": lambda m: m, "float": lambda m: _float_padding(m, dtype)}[mask_kind]
    src_pad, tgt_pad = pad(_padding(batch, 5)), pad(_padding(batch, 4))
    masks = {
        "encoder": {"src_key_padding_mask": src_pad},
        "decoder": {"tgt_mask": _causal(4, mask_kind, dtype), "tgt_key_padding_mask": tgt_pad,
                    "memory_key_padding_mask": src_pad},
        "transformer": {"src_key_padding_mask": src_pad, "tgt_mask": _causal(4, mask_kind, dtype),
                        "tgt_key_padding_mask": tgt_pad, "memory_key_padding_mask": src_pad},
    }[kind]
    if kind == "encoder":
        masks["mask" if name == "encoder" else "src_mask"] = _causal(5, mask_kind, dtype)
    _compare(t_m, e_m, _inputs(kind, dtype, False, batch=batch), masks, dtype, device)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transformer_with_generated_mask_and_memory_mask(dtype, device):
    """A full model, forward and backward, with torch's square subsequent mask as the
    target mask and a float memory mask, batch first, pre-norm, in eval mode."""
    t_m, e_m = _layer_pair(_transformer, dtype, batch_first=True, norm_first=True)
    memory_mask = _r((4, 5), dtype, seed=3)
    t_causal = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=T_DT[dtype])
    masks = {"tgt_mask": t_causal.numpy(), "memory_mask": memory_mask, "tgt_is_causal": True}
    _compare(t_m, e_m, _inputs("transformer", dtype, True), masks, dtype, device, train=False)


@pytest.mark.parametrize("sz", [0, 1, 4])
@pytest.mark.parametrize("dtype", [None, "float64", "bool"])
def test_generate_square_subsequent_mask(sz, dtype):
    same_outcome(lambda L: L.nn.Transformer.generate_square_subsequent_mask(
        sz, dtype=None if dtype is None else getattr(L, dtype)))


def test_mismatched_mask_types_warn_like_torch():
    src = _r((5, 2, D_MODEL))
    masks = {"src_mask": _causal(5, "float", np.float64), "src_key_padding_mask": _padding(2, 5)}
    for L in (torch, ember):
        layer = _encoder_layer(L).double()
        with pytest.warns(UserWarning, match="mismatched src_key_padding_mask and src_mask"):
            layer(L.tensor(src), **{k: L.tensor(v) for k, v in masks.items()})


def test_dropout_in_training():
    """Dropout is active in training (two calls differ) and off in eval mode."""
    layer = ember.nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF, dropout=0.5)
    x = ember.tensor(_r((5, 2, D_MODEL), np.float32))
    assert not np.allclose(as_numpy(layer(x)), as_numpy(layer(x)))
    layer.eval()
    np.testing.assert_array_equal(as_numpy(layer(x)), as_numpy(layer(x)))


@pytest.mark.parametrize("bias", [True, False])
def test_state_dict_keys_match_torch(bias):
    kw = dict(num_encoder_layers=2, num_decoder_layers=3, dim_feedforward=FF, bias=bias)
    t_keys = list(torch.nn.Transformer(D_MODEL, NHEAD, **kw).state_dict())
    assert list(ember.nn.Transformer(D_MODEL, NHEAD, **kw).state_dict()) == t_keys


def test_torch_state_dict_loads_and_gives_torchs_outputs(tmp_path):
    """A torch nn.Transformer's weights, saved with safetensors and loaded by ember (or
    copied directly), give torch's outputs."""
    st = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    t_m = torch.nn.Transformer(D_MODEL, NHEAD, 2, 2, FF).eval()
    path = str(tmp_path / "transformer.safetensors")
    st.save_file(t_m.state_dict(), path)
    e_m = ember.nn.Transformer(D_MODEL, NHEAD, 2, 2, FF).eval()
    e_m.load_state_dict(ember.load(path))
    src, tgt = _inputs("transformer", np.float32, False)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    t_out = t_m(torch.tensor(src), torch.tensor(tgt), tgt_mask=mask)
    e_out = e_m(ember.tensor(src), ember.tensor(tgt), tgt_mask=ember.nn.Transformer.generate_square_subsequent_mask(4))
    np.testing.assert_allclose(as_numpy(e_out), t_out.detach().numpy(), **TOLS[np.float32])


def test_gradcheck():
    e_m = _transformer(ember, activation="gelu").double()
    src, tgt = (ember.tensor(a, requires_grad=True) for a in _inputs("transformer", np.float64, False, 1, 3, 2))
    assert ember.autograd.gradcheck(lambda s, t: e_m(s, t), (src, tgt))


def test_layers_are_independent_deep_copies():
    layer = ember.nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF)
    encoder = ember.nn.TransformerEncoder(layer, 3)
    assert encoder.num_layers == 3 and encoder.norm is None and len(encoder.layers) == 3
    first, second = encoder.layers[0], encoder.layers[1]
    assert first is not layer and first is not second
    np.testing.assert_array_equal(as_numpy(first.linear1.weight), as_numpy(second.linear1.weight))
    with ember.no_grad():
        first.linear1.weight.fill_(0.0)
    assert np.any(as_numpy(second.linear1.weight)) and np.any(as_numpy(layer.linear1.weight))


def test_constructor_attributes_and_factory_kwargs():
    model = ember.nn.Transformer(D_MODEL, NHEAD, 1, 1, FF, batch_first=True, norm_first=True,
                                 layer_norm_eps=1e-3, dtype=ember.float64)
    assert (model.d_model, model.nhead, model.batch_first) == (D_MODEL, NHEAD, True)
    assert all(p.dtype == ember.float64 for p in model.parameters())
    layer = model.decoder.layers[0]
    assert layer.norm_first and layer.norm3.eps == 1e-3 and model.decoder.norm.eps == 1e-3
    assert layer.self_attn.batch_first and layer.multihead_attn.batch_first
    encoder = ember.nn.TransformerEncoder(model.encoder.layers[0], 1, enable_nested_tensor=False, mask_check=False)
    assert (encoder.enable_nested_tensor, encoder.mask_check) == (False, False)


def test_reset_parameters_is_xavier_uniform():
    model = ember.nn.Transformer(16, 2, 1, 1, 32)
    for name, p in model.named_parameters():
        a = as_numpy(p)
        if p.dim() > 1:
            bound = np.sqrt(6.0 / sum(a.shape))
            assert np.abs(a).max() <= bound and np.abs(a).max() > 0.8 * bound, name
    np.testing.assert_array_equal(as_numpy(model.encoder.norm.weight), 1.0)


def test_custom_encoder_and_decoder():
    encoder = ember.nn.TransformerEncoder(_encoder_layer(ember), 1, enable_nested_tensor=False)
    decoder = ember.nn.TransformerDecoder(_decoder_layer(ember), 1)
    model = ember.nn.Transformer(D_MODEL, NHEAD, custom_encoder=encoder, custom_decoder=decoder)
    assert model.encoder is encoder and model.decoder is decoder
    assert model(ember.rand(5, 2, D_MODEL), ember.rand(4, 2, D_MODEL)).shape == (4, 2, D_MODEL)


def _model(L, **kw):
    torch.manual_seed(0)
    return _transformer(L, **kw).double()


@pytest.mark.parametrize("call", [
    lambda L: _model(L)(L.rand(5, 2, D_MODEL, dtype=L.float64), L.rand(4, 3, D_MODEL, dtype=L.float64)),
    lambda L: _model(L, batch_first=True)(L.rand(2, 5, D_MODEL, dtype=L.float64),
                                          L.rand(3, 4, D_MODEL, dtype=L.float64)),
    lambda L: _model(L)(L.rand(5, 2, D_MODEL + 1, dtype=L.float64), L.rand(4, 2, D_MODEL, dtype=L.float64)),
    lambda L: _model(L)(L.rand(5, 2, D_MODEL, dtype=L.float64), L.rand(4, 2, 3, dtype=L.float64)),
    lambda L: _encoder_layer(L, activation="tanh"),
    lambda L: _decoder_layer(L, activation="swish"),
    lambda L: _encoder_layer(L).double()(L.rand(5, 2, D_MODEL, dtype=L.float64),
                                         src_mask=L.zeros(5, 5, dtype=L.int64)),
    lambda L: _encoder(L).double()(L.rand(5, 2, D_MODEL, dtype=L.float64),
                                   src_key_padding_mask=L.zeros(2, 5, dtype=L.int64)),
    lambda L: L.nn.TransformerEncoder(_encoder_layer(L), 0, enable_nested_tensor=False)(L.rand(5, 2, D_MODEL)),
], ids=["batch", "batch_first_batch", "src_features", "tgt_features", "activation", "decoder_activation",
        "int_mask", "int_padding_mask", "no_layers"])
def test_errors_like_torch(call):
    same_outcome(call, raises=True, match=r"batch number|feature number|activation should be|only bool and "
                                          r"floating|index 0")


@pytest.mark.parametrize("call, error", [
    (lambda: ember.nn.TransformerEncoder(_encoder_layer(ember), -1), ValueError),
    (lambda: ember.nn.TransformerDecoder(_decoder_layer(ember), 1.5), TypeError),
    (lambda: _encoder_layer(ember, activation=3), TypeError),
    (lambda: _encoder_layer(ember)(np.zeros((5, 2, D_MODEL))), TypeError),
    (lambda: _encoder_layer(ember)(ember.rand(5, 2, D_MODEL), src_mask=np.zeros((5, 5))), TypeError),
])
def test_errors_ember_refuses_early(call, error):
    """Where torch accepts nonsense and fails later (or not at all), ember refuses it up front."""
    with pytest.raises(error):
        call()
