"""PyTorch's own test samples, run with ember.

``torch.testing._internal`` describes every ``torch.nn.functional`` op (OpInfo)
and ``torch.nn`` module (ModuleInfo) with sample inputs that its own test suite
uses. For each op and module that ember provides, every sample that torch runs
must run with ember too and give torch's outputs, in float64 and float32, and
the gradients of every input that requires grad (and of a module's
parameters, on the same weights). Ops drawing random
numbers (dropout, RReLU, fractional pooling without fixed samples, and any
sample that passes a positive ``dropout_p``, as attention's do)
are checked for shapes only.

On a GPU the calls, forward and backward, may not make the host wait for the
device (CuPy's synchronisation detector), but for those that wait in torch too.
"""

import contextlib
import inspect
import warnings

import numpy as np
import pytest

import ember
from tests.conformance.sample_tolerance import tolerance

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")  # torch.testing._internal needs it

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from torch.testing._internal.common_methods_invocations import op_db
    from torch.testing._internal.common_modules import module_db

RANDOM = ("dropout", "alpha_dropout", "rrelu", "fractional_max_pool")
# OpInfo calls these with the weight as the sample's input and the indices as its first argument
WEIGHT_FIRST = ("embedding", "embedding_bag")

# calls that wait for the device as torch's do: CTC reads its lengths back, one_hot
# without num_classes its largest class, and BatchNorm with momentum=None its batch count
WAIT_AS_IN_TORCH = ("ctc_loss", "CTCLoss", "one_hot")


def _no_host_waits(device, name, module=None):
    """On a GPU, a context in which making the host wait for the device fails (but for
    the calls of WAIT_AS_IN_TORCH); elsewhere, none."""
    if not device.startswith("cuda") or name in WAIT_AS_IN_TORCH or getattr(module, "momentum", 0) is None:
        return contextlib.nullcontext()
    import cupyx

    return cupyx.allow_synchronize(False)


def _sample_dtype(op, floating=torch.float64):
    """``floating`` where torch's CPU op takes it, else int64 (index ops), else None
    (variants for complex numbers or CUDA only: ember has neither)."""
    dtypes = op.supported_dtypes("cpu")
    return next((d for d in (floating, torch.int64) if d in dtypes), None)


# (functional name, OpInfo variant): some ops have several sample sets
FUNCTIONALS = sorted((op.name.split(".", 2)[2], op.variant_test_name) for op in op_db
                     if op.name.startswith("nn.functional.") and _sample_dtype(op) is not None
                     and hasattr(ember.nn.functional, op.name.split(".", 2)[2]))
MODULES = sorted(info.module_cls.__name__ for info in module_db
                 if hasattr(ember.nn, info.module_cls.__name__))


def _to_ember(x, pairs, device="cpu"):
    """The same structure with ember values, tensors on ``device``; ``pairs`` collects
    (torch, ember) tensors. A torch tensor met twice (a sample passing one tensor as two
    arguments) becomes one ember tensor, so that their gradients add up alike."""
    if isinstance(x, torch.Tensor):
        seen = next((e for t, e in pairs if t is x), None)
        if seen is not None:
            return seen
        t = ember.tensor(x.detach().numpy(), device=device)
        if x.requires_grad:
            t.requires_grad_()
        pairs.append((x, t))
        return t
    if type(x).__name__ == "PackedSequence":  # its batch sizes stay on the CPU, as torch wants them
        data, batch_sizes, *indices = x
        return ember.nn.utils.rnn.PackedSequence(_to_ember(data, pairs, device), _to_ember(batch_sizes, pairs),
                                                 *_to_ember(indices, pairs, device))
    if isinstance(x, (list, tuple)):
        return type(x)(_to_ember(v, pairs, device) for v in x)
    if isinstance(x, dict):
        return {k: _to_ember(v, pairs, device) for k, v in x.items()}
    if isinstance(x, torch.dtype):
        return getattr(ember, str(x).split(".")[-1])
    if isinstance(x, torch.Size):
        return ember.Size(x)
    if isinstance(x, torch.nn.Module):
        rebuild = REBUILT.get(type(x).__name__)
        return rebuild(x) if rebuild else getattr(ember.nn, type(x).__name__)()
    if callable(x) and getattr(x, "__module__", "").startswith("torch") and hasattr(ember.nn.functional, x.__name__):
        return getattr(ember.nn.functional, x.__name__)  # an activation function given as an argument
    return x


def _encoder_layer(m):
    return ember.nn.TransformerEncoderLayer(
        m.linear1.in_features, m.self_attn.num_heads, m.linear1.out_features, m.dropout.p,
        _to_ember(m.activation, []), m.norm1.eps, m.self_attn.batch_first, m.norm_first, m.linear1.bias is not None)


# Modules that samples pass to a constructor and that need arguments of their own:
# torch keeps no record of those, so they are read back from the module's parts.
REBUILT = {"TransformerEncoderLayer": _encoder_layer}


def _tensors(out):
    if isinstance(out, (torch.Tensor, ember.Tensor)):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for v in out for t in _tensors(v)]
    return []


def _close(e, t, what, dtype=torch.float64):
    assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} != torch {tuple(t.shape)}"
    expected = t.detach().numpy()
    np.testing.assert_allclose(e.detach().cpu().numpy(), expected, equal_nan=True, err_msg=what,
                               **tolerance(str(dtype).split(".")[-1], expected))


def _asks_for_dropout(fn, sample):
    """Whether the sample passes ``fn`` a positive ``dropout_p`` (while training)."""
    try:
        given = inspect.signature(fn).bind(sample.input, *sample.args, **sample.kwargs).arguments
    except TypeError:
        return False
    return given.get("dropout_p", 0) > 0 and given.get("training", True)


@pytest.mark.parametrize("floating", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name, variant", FUNCTIONALS, ids=[f"{n}-{v}" if v else n for n, v in FUNCTIONALS])
def test_functional_on_torchs_samples(name, variant, floating, device):
    op = next(o for o in op_db if o.name == "nn.functional." + name and o.variant_test_name == variant)
    fn = getattr(ember.nn.functional, name)
    named_random = any(word in name for word in RANDOM)
    dtype = _sample_dtype(op, floating)
    ran = 0
    for sample in op.sample_inputs("cpu", dtype, requires_grad=op.supports_autograd and dtype.is_floating_point):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                t_out = op(sample.input, *sample.args, **sample.kwargs)
            except Exception:  # noqa: BLE001 - a sample torch itself rejects
                continue
            random = named_random or _asks_for_dropout(fn, sample)
            pairs = []
            e_in, e_args, e_kwargs = _to_ember((sample.input, sample.args, sample.kwargs), pairs, device)
            with _no_host_waits(device, name):
                if name in WEIGHT_FIRST:
                    e_out = fn(e_args[0], e_in, *e_args[1:], **e_kwargs)
                else:
                    e_out = fn(e_in, *e_args, **e_kwargs)
        what = f"{name}{tuple(sample.input.shape)} args={str(sample.args)[:80]} kwargs={sample.kwargs}"
        t_main, e_main = _tensors(t_out)[0], _tensors(e_out)[0]
        ran += 1
        if random:
            assert tuple(e_main.shape) == tuple(t_main.shape), what
            continue
        _close(e_main, t_main, what, dtype)
        _close_gradients(t_main, e_main, [p for p in pairs if p[0].requires_grad], what, dtype,
                         lambda: _no_host_waits(device, name))
    assert ran or named_random, f"no sample of {name} ran"


def _close_gradients(t_main, e_main, leaves, what, dtype, no_host_waits):
    """The gradients of a random-weighted sum of the output, for each (torch, ember)
    pair of ``leaves``, agree (when the output is differentiable); ember's backward
    runs in the context ``no_host_waits()``."""
    if not (t_main.requires_grad and t_main.is_floating_point()):
        return
    weights = np.random.default_rng(0).standard_normal(tuple(t_main.shape)).astype(
        str(t_main.dtype).replace("torch.", ""))
    t_grads = torch.autograd.grad((t_main * torch.tensor(weights)).sum(), [t for t, _ in leaves],
                                  allow_unused=True)
    e_weights = ember.tensor(weights, device=e_main.device)
    with no_host_waits():
        e_grads = ember.autograd.grad((e_main * e_weights).sum(), [e for _, e in leaves], allow_unused=True)
    for i, (e_g, t_g) in enumerate(zip(e_grads, t_grads)):
        if e_g is None or t_g is None:  # "no dependence" and "all zeros" agree
            other = t_g if e_g is None else e_g
            assert other is None or not np.any(other.detach().cpu().numpy()), f"{what}: gradient {i}"
        else:
            _close(e_g, t_g, f"{what}: gradient {i}", dtype)


@pytest.mark.parametrize("floating", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", MODULES)
def test_module_on_torchs_inputs(name, floating, device):
    """Outputs, and the gradients of the inputs and parameters, on the same weights."""
    info = next(i for i in module_db if i.module_cls.__name__ == name)
    random = name.startswith(("Dropout", "AlphaDropout", "FeatureAlphaDropout", "RReLU", "Fractional"))
    ran = 0
    for training in (True, False):
        for case in info.module_inputs_func(info, device="cpu", dtype=floating,
                                            requires_grad=True, training=training):
            if case.forward_input is None:
                continue
            args, kwargs = case.constructor_input.args, case.constructor_input.kwargs
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    torch.manual_seed(0)
                    t_mod = info.module_cls(*args, **kwargs).to(floating).train(training)
                    state = {k: ember.tensor(v.detach().numpy(), device=device) for k, v in t_mod.state_dict().items()}
                    t_out = t_mod(*case.forward_input.args, **case.forward_input.kwargs)
                except Exception:  # noqa: BLE001 - an input torch itself rejects
                    continue
                e_mod = getattr(ember.nn, name)(*_to_ember(args, [], device), **_to_ember(kwargs, [], device))
                e_mod.to(device, getattr(ember, str(floating).split(".")[-1])).train(training)
                e_mod.load_state_dict(state)
                pairs = []
                e_args, e_kwargs = _to_ember((case.forward_input.args, case.forward_input.kwargs), pairs, device)
                with _no_host_waits(device, name, e_mod):
                    e_out = e_mod(*e_args, **e_kwargs)
            what = f"{name}(training={training}, args={str(args)[:60]}, kwargs={str(kwargs)[:60]})"
            t_list, e_list = _tensors(t_out), _tensors(e_out)
            assert len(e_list) == len(t_list), what
            for e, t in zip(e_list, t_list):
                if random:
                    assert tuple(e.shape) == tuple(t.shape), what
                else:
                    _close(e, t, what, floating)
            if not random and t_list:
                leaves = [p for p in pairs if p[0].requires_grad] + list(zip(t_mod.parameters(), e_mod.parameters()))
                _close_gradients(t_list[0], e_list[0], leaves, what, floating,
                                 lambda: _no_host_waits(device, name, e_mod))
            ran += 1
    assert ran, f"no input of {name} ran"
