"""RNN, LSTM, GRU and their cells against torch 2.13 with copied weights: outputs,
final states, and the gradients of the input, the initial states and every parameter.

float64 results agree to 1e-8 relative; float32 ones to rtol 1e-4 / atol 1e-5, looser
than a single op's tolerance because every step feeds the next (errors of a few ulps
per step add up along the recurrence and through the layers).
"""

import warnings

import numpy as np
import pytest

import ember
from tests.oracle import as_numpy, same_outcome, torch
from tests.plugins.library_tensors import lib_tensor

TOLS = {np.float64: dict(rtol=1e-8, atol=1e-10), np.float32: dict(rtol=1e-4, atol=1e-5)}
E_DT = {np.float64: ember.float64, np.float32: ember.float32}
T_DT = {np.float64: torch.float64, np.float32: torch.float32}
MODES = [("LSTM", {}), ("GRU", {}), ("RNN", {}), ("RNN", {"nonlinearity": "relu"})]
MODE_IDS = ["lstm", "gru", "rnn_tanh", "rnn_relu"]


def _r(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _pair(name, *args, dtype=np.float64, **kw):
    """A torch module and an ember module of the same class holding torch's weights."""
    torch.manual_seed(0)
    t_m = getattr(torch.nn, name)(*args, **kw).to(T_DT[dtype])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e_m = getattr(ember.nn, name)(*args, **kw).to(E_DT[dtype])
    e_m.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_m.state_dict().items()})
    return t_m, e_m


def _close(e, t, dtype, what):
    assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} != {tuple(t.shape)}"
    assert e.dtype.name == str(t.dtype).replace("torch.", ""), what
    np.testing.assert_allclose(as_numpy(e), as_numpy(t), **TOLS[dtype], err_msg=what)


def _flat_outputs(out, hidden):
    hs = list(hidden) if isinstance(hidden, tuple) else [hidden]
    return [out] + hs


def _compare(t_m, e_m, x, hx, dtype, device, wrap=None):
    """Run both modules (ember's moved to ``device``) on numpy input ``x`` and initial
    states ``hx`` (None, array or tuple of arrays); compare outputs, final states and
    all gradients. ``wrap`` turns the input tensor into the module input (e.g. packing)."""
    e_m.to(device)

    def inputs(lib):
        def mk(a):
            return lib_tensor(lib, a, device, requires_grad=True)
        xi = mk(x)
        h = None if hx is None else (tuple(mk(a) for a in hx) if isinstance(hx, tuple) else mk(hx))
        return xi, h

    tx, th = inputs(torch)
    ex, eh = inputs(ember)
    t_in = wrap(torch, tx) if wrap else tx
    e_in = wrap(ember, ex) if wrap else ex
    t_out, t_hid = t_m(t_in) if th is None else t_m(t_in, th)
    e_out, e_hid = e_m(e_in) if eh is None else e_m(e_in, eh)
    if wrap:
        assert type(e_out).__name__ == "PackedSequence"
        for a, b in zip(e_out[1:], t_out[1:]):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_array_equal(as_numpy(a), b.numpy())
        t_out, e_out = t_out.data, e_out.data
    t_all, e_all = _flat_outputs(t_out, t_hid), _flat_outputs(e_out, e_hid)
    for i, (e, t) in enumerate(zip(e_all, t_all)):
        _close(e, t, dtype, f"output {i}")
    weights = [_r(t.shape, dtype, 10 + i) for i, t in enumerate(t_all)]
    sum(((t * torch.tensor(w)).sum() for t, w in zip(t_all, weights))).backward()
    sum(((e * ember.tensor(w, device=device)).sum() for e, w in zip(e_all, weights))).backward()
    _close(ex.grad, tx.grad, dtype, "grad input")
    if th is not None:
        for i, (a, b) in enumerate(zip(eh if isinstance(eh, tuple) else [eh],
                                       th if isinstance(th, tuple) else [th])):
            _close(a.grad, b.grad, dtype, f"grad hx[{i}]")
    e_params = dict(e_m.named_parameters())
    for name, p in t_m.named_parameters():
        _close(e_params[name].grad, p.grad, dtype, f"grad {name}")


# layers, bidirectional, batch_first, bias, initial state given
GRID = [(1, False, False, True, False), (2, False, True, True, True), (3, True, False, True, True),
        (2, True, True, False, False), (1, True, False, False, True), (2, False, False, True, False)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layers,bidir,batch_first,bias,with_hx", GRID)
@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_module_grid(mode, layers, bidir, batch_first, bias, with_hx, dtype, device):
    name, kw = mode
    t_m, e_m = _pair(name, 4, 5, layers, bias=bias, batch_first=batch_first,
                     bidirectional=bidir, dtype=dtype, **kw)
    T, B, D = 6, 3, 2 if bidir else 1
    x = _r((B, T, 4) if batch_first else (T, B, 4), dtype)
    hx = None
    if with_hx:
        hx = _r((layers * D, B, 5), dtype, 1)
        if name == "LSTM":
            hx = (hx, _r((layers * D, B, 5), dtype, 2))
    _compare(t_m, e_m, x, hx, dtype, device)


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("bidir", [False, True])
@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_packed_input(mode, bidir, enforce_sorted, device):
    name, kw = mode
    dtype = np.float64
    t_m, e_m = _pair(name, 3, 4, 2, bidirectional=bidir, dtype=dtype, **kw)
    lengths = [5, 4, 4, 2, 1] if enforce_sorted else [2, 5, 1, 4, 4]
    x = _r((5, 5, 3), dtype)
    D = 2 if bidir else 1
    hx = _r((2 * D, 5, 4), dtype, 1)
    if name == "LSTM":
        hx = (hx, _r((2 * D, 5, 4), dtype, 2))

    def wrap(lib, t):
        return lib.nn.utils.rnn.pack_padded_sequence(t, lengths, enforce_sorted=enforce_sorted)

    _compare(t_m, e_m, x, hx, dtype, device, wrap=wrap)


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_packed_input_no_hx_float32(mode, device):
    name, kw = mode
    t_m, e_m = _pair(name, 3, 4, 1, bidirectional=True, dtype=np.float32, **kw)

    def wrap(lib, t):
        return lib.nn.utils.rnn.pack_padded_sequence(t, [4, 1, 3], batch_first=True, enforce_sorted=False)

    t_m.batch_first = e_m.batch_first = True
    _compare(t_m, e_m, _r((3, 4, 3), np.float32), None, np.float32, device, wrap=wrap)


@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_unbatched(mode, with_hx, device):
    name, kw = mode
    t_m, e_m = _pair(name, 3, 4, 2, bidirectional=True, **kw)
    hx = None
    if with_hx:
        hx = _r((4, 4), np.float64, 1)
        if name == "LSTM":
            hx = (hx, _r((4, 4), np.float64, 2))
    _compare(t_m, e_m, _r((5, 3)), hx, np.float64, device)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bidir,packed", [(False, False), (True, False), (True, True)])
def test_lstm_proj_size(bidir, packed, dtype, device):
    t_m, e_m = _pair("LSTM", 4, 6, 2, proj_size=3, bidirectional=bidir, dtype=dtype)
    D = 2 if bidir else 1
    hx = (_r((2 * D, 3, 3), dtype, 1), _r((2 * D, 3, 6), dtype, 2))
    wrap = None
    if packed:
        def wrap(lib, t):
            return lib.nn.utils.rnn.pack_padded_sequence(t, [2, 5, 3], enforce_sorted=False)
    _compare(t_m, e_m, _r((5, 3, 4), dtype), hx, dtype, device, wrap=wrap)


def test_long_sequence_float32(device):
    t_m, e_m = _pair("LSTM", 8, 16, 2, dtype=np.float32)
    _compare(t_m, e_m, _r((60, 4, 8), np.float32), None, np.float32, device)


@pytest.mark.parametrize("name,kw", [("LSTM", {}), ("LSTM", {"proj_size": 2}), ("GRU", {}), ("RNN", {})])
def test_no_row_copy_per_time_step_on_a_gpu(name, kw, device, monkeypatch):
    """On a GPU each copy is a launch: the outputs, incoming states and gradients of
    the steps are stacked once per layer, not written in step by step, so the writes
    into device arrays during forward and backward do not grow with the sequence length."""
    from ember.backend import REGISTRY
    from tests import emulated_cupy

    if device != "cuda" or REGISTRY.backends["cuda"].xp is not emulated_cupy.XP:
        pytest.skip("counts the emulated GPU's writes")
    writes = []
    plain = emulated_cupy.DeviceArray.__setitem__
    monkeypatch.setattr(emulated_cupy.DeviceArray, "__setitem__",
                        lambda array, index, value: writes.append(index) or plain(array, index, value))
    model = getattr(ember.nn, name)(3, 4, 2, bidirectional=True, **kw).to(device)
    counts = []
    for steps in (2, 9):
        writes.clear()
        model(ember.randn(steps, 2, 3, device=device))[0].sum().backward()
        counts.append(len(writes))
    assert counts[0] == counts[1], f"{counts[0]} writes for 2 steps, {counts[1]} for 9"


@pytest.mark.parametrize("name,kw,per_step", [
    ("LSTM", {}, 2), ("LSTM", {"proj_size": 2}, 6), ("GRU", {}, 2), ("RNN", {}, 2)])
def test_launches_per_time_step_on_a_gpu(name, kw, per_step, device):
    """On a GPU a small layer's time step is one launch each way: the step kernel
    takes in the product with ``W_hh`` (``h @ W_hh^T`` forward, the later step's gate
    gradient times ``W_hh`` backward), adds the parts of the gradient and GRU's hidden
    bias itself. An LSTM projection adds its product each way, the sum of the
    gradient's parts before it, and the recurrent product backward (taken apart from
    the step, as the projection's gradient needs it first)."""
    from ember.backend import REGISTRY
    from tests import emulated_cupy

    if device != "cuda" or REGISTRY.backends["cuda"].xp is not emulated_cupy.XP:
        pytest.skip("counts the emulated GPU's launches")
    model = getattr(ember.nn, name)(3, 4, 2, bidirectional=True, **kw).to(device)
    model(ember.randn(2, 2, 3, device=device))[0].sum().backward()  # the first call does more
    counts = []
    for steps in (2, 9):
        x = ember.randn(steps, 2, 3, device=device)
        with emulated_cupy.counting_launches() as launches:
            model(x)[0].sum().backward()
        counts.append(len(launches))
    layers_and_directions = 4
    assert counts[1] - counts[0] == per_step * 7 * layers_and_directions, counts


def test_non_contiguous_input(device):
    t_m, e_m = _pair("GRU", 4, 5, 2)
    x = _r((3, 12, 8))[:, ::2, ::2]  # a step-sliced view
    tx, ex = torch.tensor(x), ember.tensor(x, device=device)
    t_out, _ = t_m(tx.transpose(0, 1)[:, :, :4])
    e_out, _ = e_m.to(device)(ex.transpose(0, 1)[:, :, :4])
    _close(e_out, t_out, np.float64, "output")


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_dropout_eval_matches_torch(mode, device):
    name, kw = mode
    t_m, e_m = _pair(name, 3, 4, 3, dropout=0.5, **kw)
    t_m.eval()
    e_m.eval()
    _compare(t_m, e_m, _r((5, 2, 3)), None, np.float64, device)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_dropout_training_shapes_and_seed(name, device):
    _, e_m = _pair(name, 3, 4, 3, dropout=0.5)
    e_m.train().to(device)
    x = ember.tensor(_r((5, 2, 3)), device=device)
    runs = []
    for _ in range(2):
        ember.manual_seed(7)
        out, _ = e_m(x)
        runs.append(as_numpy(out))
    assert runs[0].shape == (5, 2, 4)
    np.testing.assert_array_equal(runs[0], runs[1])
    ember.manual_seed(8)
    e_m.eval()
    assert not np.allclose(as_numpy(e_m(x)[0]), runs[0])


def test_dropout_warning_single_layer():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        ember.nn.LSTM(3, 4, 1, dropout=0.2)


CELLS = [("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"})]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("cell", CELLS, ids=["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_cells(cell, bias, with_hx, batched, dtype, device):
    name, kw = cell
    t_m, e_m = _pair(name, 3, 4, bias=bias, dtype=dtype, **kw)
    e_m.to(device)
    shape = (2,) if batched else ()
    x = _r(shape + (3,), dtype)
    hx = None
    if with_hx:
        hx = _r(shape + (4,), dtype, 1)
        if name == "LSTMCell":
            hx = (hx, _r(shape + (4,), dtype, 2))

    def run(lib, m):
        def mk(a):
            return lib_tensor(lib, a, device, requires_grad=True)
        xi = mk(x)
        h = None if hx is None else (tuple(mk(a) for a in hx) if isinstance(hx, tuple) else mk(hx))
        out = m(xi) if h is None else m(xi, h)
        outs = list(out) if isinstance(out, tuple) else [out]
        sum(((o * lib_tensor(lib, _r(o.shape, dtype, 5 + i), device)).sum() for i, o in enumerate(outs))).backward()
        hs = [] if h is None else (list(h) if isinstance(h, tuple) else [h])
        return outs, [xi.grad] + [a.grad for a in hs] + [p.grad for p in m.parameters()]

    t_outs, t_grads = run(torch, t_m)
    e_outs, e_grads = run(ember, e_m)
    for i, (e, t) in enumerate(zip(e_outs + e_grads, t_outs + t_grads)):
        _close(e, t, dtype, f"value {i}")


# --- gradcheck / gradgradcheck (float64, tiny) ---

def _functional(name, packed=False, **kw):
    """A function of (x, h0[, c0], *params) running the ember module on those tensors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = getattr(ember.nn, name)(2, 3, **kw).double()
    names = [n for n, _ in m.named_parameters()]
    lstm = name.startswith("LSTM")
    cell = name.endswith("Cell")

    def fn(x, h, c, *params):
        for n, p in zip(names, params):
            m._parameters[n] = p
        if packed:
            x = ember.nn.utils.rnn.pack_padded_sequence(x, [3, 1, 2], enforce_sorted=False)
        hx = (h, c) if lstm else h
        out = m(x, hx)
        if cell:
            return out
        out, hid = out
        if packed:
            out = out.data
        return (out,) + (hid if lstm else (hid,))

    params = [as_numpy(p) for p in m.parameters()]
    return fn, params


@pytest.mark.parametrize("name,kw,packed", [
    ("LSTM", {"num_layers": 2, "bidirectional": True}, False),
    ("LSTM", {"proj_size": 2}, True),
    ("GRU", {"num_layers": 2}, True),
    ("GRU", {"bidirectional": True}, False),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True}, True),
    ("RNN", {}, False),
    ("LSTMCell", {}, False), ("GRUCell", {}, False), ("RNNCell", {}, False),
])
def test_gradcheck(name, kw, packed, device):
    fn, params = _functional(name, packed, **kw)
    cell = name.endswith("Cell")
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    B = 3 if packed else 2
    hsize = kw.get("proj_size", 3)
    h = _r((B, 3), seed=1) if cell else _r((L * D, B, hsize), seed=1)
    c = _r((B, 3), seed=2) if cell else _r((L * D, B, 3), seed=2)
    x = _r((B, 2), seed=3) if cell else _r((3, B, 2), seed=3)
    args = [ember.tensor(a, device=device, requires_grad=True) for a in [x, h, c] + params]
    assert ember.autograd.gradcheck(fn, args, eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("name,kw", [("LSTM", {"bidirectional": True}), ("GRU", {}), ("RNN", {}),
                                     ("LSTMCell", {})])
def test_gradgradcheck(name, kw, device):
    """Second derivatives w.r.t. the input, the states and the recurrent weights (the
    other parameters stay fixed to keep the finite differences few)."""
    fn, params = _functional(name, **kw)
    cell = name.endswith("Cell")
    D = 2 if kw.get("bidirectional") else 1
    h = _r((2, 3), seed=1) if cell else _r((D, 1, 3), seed=1)
    c = _r((2, 3), seed=2) if cell else _r((D, 1, 3), seed=2)
    x = _r((2, 2), seed=3) if cell else _r((2, 1, 2), seed=3)
    fixed = [ember.tensor(a, device=device) for a in params]

    def g(x, h, c, w_hh):
        return fn(x, h, c, fixed[0], w_hh, *fixed[2:])

    args = [ember.tensor(a, device=device, requires_grad=True) for a in [x, h, c, params[1]]]
    assert ember.autograd.gradgradcheck(g, args, eps=1e-6, atol=1e-5, rtol=1e-3)


def test_double_backward_matches_torch(device):
    t_m, e_m = _pair("GRU", 2, 3, 1)
    x = _r((4, 2, 2))
    res = []
    for lib, m in ((torch, t_m), (ember, e_m.to(device))):
        xi = lib_tensor(lib, x, device, requires_grad=True)
        out, h = m(xi)
        (g,) = lib.autograd.grad((out ** 2).sum() + h.sum(), [xi], create_graph=True)
        (g * g).sum().backward()
        res.append([as_numpy(xi.grad)] + [as_numpy(p.grad) for p in m.parameters()])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


# --- errors (torch's types and messages) ---

def test_error_input_size():
    t_m, e_m = _pair("LSTM", 10, 20, 2)
    ours, _ = same_outcome(lambda L: (e_m if L is ember else t_m)(L.zeros(5, 3, 7, dtype=L.float64)), raises=True,
                           message=True)
    assert ours.message == "input.size(-1) must be equal to input_size. Expected 10, got 7"


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
def test_error_hidden_shape(name):
    t_m, e_m = _pair(name, 10, 20, 2)

    def hx(lib):
        h = lib.zeros(1, 3, 20, dtype=lib.float64)
        return (h, lib.zeros(2, 3, 20, dtype=lib.float64)) if name == "LSTM" else h

    ours, _ = same_outcome(lambda L: (e_m if L is ember else t_m)(L.zeros(5, 3, 10, dtype=L.float64), hx(L)),
                           raises=True, message=True)
    assert "(2, 3, 20), got [1, 3, 20]" in ours.message


@pytest.mark.parametrize("call", [
    lambda lib, m: m(lib.zeros(3, dtype=lib.float64)),                       # 1-D input
    lambda lib, m: m(lib.zeros(5, 3, 4, dtype=lib.float64), lib.zeros(2, 4, dtype=lib.float64)),
    lambda lib, m: m(lib.zeros(5, 4, dtype=lib.float64), lib.zeros(1, 2, 4, dtype=lib.float64)),
    lambda lib, m: m(lib.zeros(5, 3, 4, dtype=lib.float32)),                 # dtype mismatch
])
@pytest.mark.parametrize("name", ["RNN", "GRU"])
def test_error_forward_args(name, call):
    t_m, e_m = _pair(name, 4, 4, 1)
    same_outcome(lambda L: call(L, e_m if L is ember else t_m), raises=True, message=True)


@pytest.mark.parametrize("kw", [{"dropout": 1.5}, {"dropout": True}, {"bias": 1}, {"batch_first": "no"},
                                {"proj_size": 4}, {"num_layers": 0}, {"nonlinearity": "sigmoid"}])
def test_error_constructor(kw):
    name = "LSTM" if "proj_size" in kw else "RNN"
    same_outcome(lambda L: getattr(L.nn, name)(3, 4, **kw), raises=True, message=True)


@pytest.mark.parametrize("name,call", [
    ("LSTMCell", lambda lib, m: m(lib.zeros(2, 2, 3, dtype=lib.float64))),
    ("GRUCell", lambda lib, m: m(lib.zeros(2, 7, dtype=lib.float64))),
    ("RNNCell", lambda lib, m: m(lib.zeros(2, 3, dtype=lib.float64), lib.zeros(3, 4, dtype=lib.float64))),
    ("RNNCell", lambda lib, m: m(lib.zeros(2, 3, dtype=lib.float64), lib.zeros(2, 2, 4, dtype=lib.float64))),
])
def test_error_cells(name, call):
    t_m, e_m = _pair(name, 3, 4)
    same_outcome(lambda L: call(L, e_m if L is ember else t_m), raises=True)


# --- state dicts, repr, attributes ---

@pytest.mark.parametrize("name,kw", [("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2)),
                                     ("GRU", dict(num_layers=3, bias=False, batch_first=True, dropout=0.3)),
                                     ("RNN", dict(nonlinearity="relu")), ("LSTMCell", {}),
                                     ("RNNCell", dict(nonlinearity="relu", bias=False)), ("GRUCell", {})])
def test_state_dict_and_repr(name, kw):
    t_m, e_m = _pair(name, 3, 4, **kw)
    assert list(e_m.state_dict()) == list(t_m.state_dict())
    for k, v in t_m.state_dict().items():
        assert tuple(e_m.state_dict()[k].shape) == tuple(v.shape)
    assert repr(e_m) == repr(t_m)
    if not name.endswith("Cell"):
        assert e_m._flat_weights_names == t_m._flat_weights_names
        assert [[tuple(p.shape) for p in ws] for ws in e_m.all_weights] == \
            [[tuple(p.shape) for p in ws] for ws in t_m.all_weights]
        e_m.flatten_parameters()


def test_init_range():
    m = ember.nn.GRU(3, 16, 2)
    for p in m.parameters():
        a = as_numpy(p)
        assert np.abs(a).max() <= 0.25 and a.std() > 0.1


def test_language_model_from_torch_safetensors(tmp_path, device):
    """Embedding -> 2-layer LSTM -> Linear, trained weights saved by torch with
    safetensors, loaded by ember: same state dict keys, same outputs."""
    st = pytest.importorskip("safetensors.torch")
    vocab, emb, hid = 30, 8, 12

    class TorchLM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(vocab, emb)
            self.rnn = torch.nn.LSTM(emb, hid, 2, dropout=0.2)
            self.out = torch.nn.Linear(hid, vocab)

        def forward(self, tokens):
            y, _ = self.rnn(self.embed(tokens))
            return self.out(y)

    class EmberLM(ember.nn.Module):
        def __init__(self):
            super().__init__()
            if hasattr(ember.nn, "Embedding"):
                self.embed = ember.nn.Embedding(vocab, emb)
            else:
                self.embed = ember.nn.Module()
                self.embed.weight = ember.nn.Parameter(ember.zeros(vocab, emb))
            self.rnn = ember.nn.LSTM(emb, hid, 2, dropout=0.2)
            self.out = ember.nn.Linear(hid, vocab)

        def forward(self, tokens):
            e = self.embed.weight[tokens] if type(self.embed) is ember.nn.Module else self.embed(tokens)
            y, _ = self.rnn(e)
            return self.out(y)

    torch.manual_seed(0)
    t_lm = TorchLM().eval()
    path = str(tmp_path / "lm.safetensors")
    st.save_file(t_lm.state_dict(), path)
    e_lm = EmberLM().eval()
    state = ember.load(path)
    assert sorted(state) == sorted(e_lm.state_dict())
    e_lm.load_state_dict(state)
    e_lm.to(device)
    tokens = np.random.default_rng(0).integers(0, vocab, (7, 3))
    t_y = t_lm(torch.tensor(tokens))
    e_y = e_lm(ember.tensor(tokens, device=device))
    np.testing.assert_allclose(as_numpy(e_y), t_y.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_modules_on_device(name, device):
    """The generic (xp) kernels: same outputs and gradients on every backend as on the CPU."""
    _, e_m = _pair(name, 3, 4, 2, bidirectional=True)
    x = _r((5, 3, 3))
    results = []
    for dev in ("cpu", device):
        m = e_m.to(dev)
        m.zero_grad()
        xi = ember.tensor(x, device=dev, requires_grad=True)
        packed = ember.nn.utils.rnn.pack_padded_sequence(xi, [5, 2, 4], enforce_sorted=False)
        out, hid = m(packed)
        h = hid[0] if name == "LSTM" else hid
        (out.data.sum() + (h * h).sum()).backward()
        results.append([as_numpy(out.data), as_numpy(h), as_numpy(xi.grad)] +
                       [as_numpy(p.grad) for p in m.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
