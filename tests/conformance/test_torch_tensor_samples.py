"""PyTorch's own OpInfo samples for the tensor ops, run with ember.

Every entry of torch's ``op_db`` that is not ``nn.functional.*`` and whose name
ember has (``ember.<name>``, or a ``Tensor`` method) is run in each of its
forms — function, method, in-place method — on every sample torch's own test
suite uses, in float64 and float32: ember must give torch's outputs (shapes,
dtypes, values) and the gradients of every input that requires grad, and must
refuse what torch refuses. On torch's error inputs, ember must raise the
exception type torch raises. New ember ops are picked up automatically.

Run one op with ``-k <name>``; the terminal summary lists passed, failed and
skipped samples by op (tests/conformance/sample_counts.py). Samples are skipped only for
the reasons in ``OUT_OF_SCOPE``.
"""

import inspect
import types
import warnings

import numpy as np
import pytest

import ember
from tests.conformance import sample_counts
from tests.conformance.sample_tolerance import tolerance
from tests.oracle import outcome, same_outcome, torch

pytest.importorskip("expecttest")  # torch.testing._internal needs it

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from torch.testing._internal.common_methods_invocations import op_db

# Why a sample is not run: features ember does not have.
OUT_OF_SCOPE = {
    "complex": "complex dtypes",
    "sparse": "sparse layouts",
    "out": "out= arguments",
    "memory_format": "memory_format arguments",
    "cuda": "CUDA-only arguments",
    "ndim": "tensors of more than 64 dims (NumPy's limit: ember cannot hold them)",
}

# Ops whose values are random or uninitialised: only shapes and dtypes are compared.
UNDETERMINED = {"bernoulli", "cauchy", "empty", "empty_like", "empty_strided", "exponential", "geometric",
                "log_normal", "multinomial", "new_empty", "new_empty_strided", "normal", "rand_like",
                "randint", "randint_like", "randn", "randn_like", "uniform", "svd_lowrank", "pca_lowrank"}



def _resolve(root, dotted):
    for part in dotted.split("."):
        root = getattr(root, part, None)
        if root is None:
            return None
    return root


class _TorchAsEmber(types.ModuleType):
    """Stands in for ``torch`` inside OpInfo's lambdas, so they call ember."""

    def __getattr__(self, name):
        found = getattr(ember, name, None)
        if found is None:
            raise AttributeError(f"ember has no {name!r} (the sample calls torch.{name})")
        return found


_SHIM = _TorchAsEmber("torch_as_ember")


def _call_through(fn, *args, **kwargs):
    return fn(*args, **kwargs)


def _in_ember(fn):
    """``fn``, a Python function of torch's test code, with ``torch`` in it standing for ember."""
    scope = {**fn.__globals__, "torch": _SHIM, "wrapper_set_seed": _call_through}
    return types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)


def _is_method(fn):
    return getattr(fn, "__qualname__", "").startswith(("Tensor.", "TensorBase."))


def _ember_callable(op, torch_fn):
    """ember's counterpart of one of ``op``'s forms, or None when ember lacks it."""
    if inspect.isfunction(torch_fn) and torch_fn.__name__ == "<lambda>":
        if _resolve(ember, op.name) is None and not hasattr(ember.Tensor, op.name):
            return None
        return _in_ember(torch_fn)
    if _is_method(torch_fn):
        name = torch_fn.__name__
        if not hasattr(ember.Tensor, name):
            return None
        return lambda self, *args, **kwargs: getattr(self, name)(*args, **kwargs)
    return _resolve(ember, op.name)


def _forms(op):
    """(kind, torch callable) for the function, method and in-place forms of ``op``."""
    forms = [("function", op.op)]
    if op.method_variant is not None and op.method_variant is not op.op:
        forms.append(("method", op.method_variant))
    if op.inplace_variant is not None:
        forms.append(("inplace", op.inplace_variant))
    return forms


def _sample_dtype(op, floating):
    """``floating`` where torch's CPU op takes it; for ops without floating types,
    int64 (or bool) in the float64 run only."""
    dtypes = op.supported_dtypes("cpu")
    if floating in dtypes:
        return floating
    if floating is torch.float64:
        return next((d for d in (torch.int64, torch.bool) if d in dtypes), None)
    return None


CASES = sorted({(op.name, op.variant_test_name, kind) for op in op_db if not op.name.startswith("nn.functional.")
                for kind, fn in _forms(op) if _ember_callable(op, fn) is not None})


def _label(name, variant, kind):
    return "-".join(part for part in (name, variant, kind) if part)


# --------------------------------------------------------------------------
# Converting a sample


def _out_of_scope(sample):
    """The OUT_OF_SCOPE key that applies to the sample, else None."""
    if "out" in sample.kwargs:
        return "out"
    for x in _leaves((sample.input, sample.args, sample.kwargs)):
        if isinstance(x, torch.Tensor):
            if x.is_complex():
                return "complex"
            if x.layout != torch.strided:
                return "sparse"
            if x.dim() > 64:
                return "ndim"
        elif isinstance(x, complex) or (isinstance(x, torch.dtype) and x.is_complex):
            return "complex"
        elif isinstance(x, torch.memory_format):
            return "memory_format"
        elif isinstance(x, torch.layout) and x != torch.strided:
            return "sparse"
        elif isinstance(x, (torch.device, str)) and str(x).startswith("cuda"):
            return "cuda"
    return None


def _leaves(x):
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in _leaves(v)]
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in _leaves(v)]
    return [x]


def _to_ember(x, seen, device="cpu"):
    """The same structure with ember values, tensors on ``device``; ``seen`` maps
    id(torch tensor) -> (torch, ember)."""
    if isinstance(x, torch.Tensor):
        if id(x) not in seen:
            t = ember.tensor(x.detach().numpy(), device=device)
            if x.requires_grad:
                t.requires_grad_()
            seen[id(x)] = (x, t)
        return seen[id(x)][1]
    if isinstance(x, torch.Size):
        return ember.Size(x)
    if isinstance(x, (list, tuple)):
        return type(x)(_to_ember(v, seen, device) for v in x)
    if isinstance(x, dict):
        return {k: _to_ember(v, seen, device) for k, v in x.items()}
    if isinstance(x, torch.dtype):
        return getattr(ember, str(x).split(".")[-1])
    if isinstance(x, torch.device):
        return str(x)
    return x


def _outputs(out):
    """Tensors and plain values of an output, flattened in order."""
    if isinstance(out, (list, tuple)) and not isinstance(out, torch.Size):
        return [leaf for v in out for leaf in _outputs(v)]
    return [out]


def _dtype_name(dtype):
    return str(dtype).split(".")[-1]


def _compare(e, t, what, values=True):
    """Same kind of output, shape and dtype; same values too unless ``values`` is False."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: ember gave {type(e).__name__}, torch a tensor"
        assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} != torch's {tuple(t.shape)}"
        assert _dtype_name(e.dtype) == _dtype_name(t.dtype), f"{what}: dtype {e.dtype} != torch's {t.dtype}"
        if values:
            expected = t.detach().numpy()
            np.testing.assert_allclose(e.detach().cpu().numpy(), expected, equal_nan=True, err_msg=what,
                                       **tolerance(_dtype_name(t.dtype), expected))
    elif values:
        if isinstance(t, torch.Size):
            t, e = tuple(t), tuple(e)
        numbers = isinstance(e, (int, float)) and isinstance(t, (int, float))
        assert type(e) is type(t) or numbers, f"{what}: {e!r} ({type(e).__name__}) != torch's {t!r}"
        expected = np.asarray(t, dtype=float)
        np.testing.assert_allclose(np.asarray(e, dtype=float), expected, equal_nan=True, err_msg=what,
                                   **tolerance("float64", expected))


# --------------------------------------------------------------------------
# One sample


def _run(fn, sample_input, args, kwargs, inplace):
    target = sample_input.clone() if inplace else sample_input
    return fn(target, *args, **kwargs)


def _check_sample(op, kind, torch_fn, ember_fn, sample, device):
    """Raises AssertionError (or ember's own error) naming the difference."""
    what = f"{op.name} {kind} input={_describe(sample.input)} args={str(sample.args)[:100]} kwargs={sample.kwargs}"
    inplace = kind == "inplace"
    theirs = outcome(lambda: _run(torch_fn, sample.input, sample.args, sample.kwargs, inplace), quiet=True)
    seen = {}
    e_input, e_args, e_kwargs = _to_ember((sample.input, sample.args, sample.kwargs), seen, device)
    ours = outcome(lambda: _run(ember_fn, e_input, e_args, e_kwargs, inplace), quiet=True)
    if theirs.error is not None:  # torch refuses the sample: ember must too, with any error
        assert ours.error is not None, f"{what}: torch refuses it ({str(theirs)[:130]}), ember accepted it"
        return
    if ours.error is not None:
        raise AssertionError(f"{what}: ember {ours}") from ours.error
    t_out, e_out = theirs.value, ours.value
    values = op.name not in UNDETERMINED
    # e.g. svd: the parts of the output that are unique (|U|, U @ Vh, S), as torch's tests compare them
    process = sample.output_process_fn_grad
    t_list, e_list = _outputs(process(t_out)), _outputs((_in_ember(process) if inspect.isfunction(process) else process)(e_out))
    assert len(e_list) == len(t_list), f"{what}: {len(e_list)} outputs, torch {len(t_list)}"
    for i, (e, t) in enumerate(zip(e_list, t_list)):
        _compare(e, t, f"{what}: output {i}", values)
    if values:
        _check_gradients(t_list, e_list, seen, what)


def _describe(x):
    if isinstance(x, torch.Tensor):
        return f"tensor{tuple(x.shape)}"
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(_describe(v) for v in x) + "]"
    return repr(x)


def _check_gradients(t_list, e_list, seen, what):
    graded = [i for i, t in enumerate(t_list) if isinstance(t, torch.Tensor) and t.requires_grad
              and t.is_floating_point() and t.numel()]
    t_leaves = [t for t, _ in seen.values() if t.requires_grad]
    if not graded or not t_leaves:
        return
    e_leaves = [e for t, e in seen.values() if t.requires_grad]
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(tuple(t_list[i].shape)).astype(_dtype_name(t_list[i].dtype)) for i in graded]
    try:
        t_grads = torch.autograd.grad(sum((t_list[i] * torch.tensor(w)).sum() for i, w in zip(graded, weights)),
                                      t_leaves, allow_unused=True)
    except RuntimeError:  # torch has no derivative here either
        return
    for i in graded:
        assert e_list[i].requires_grad, f"{what}: output {i} does not require grad, torch's does"
    e_loss = sum((e_list[i] * ember.tensor(w, device=e_list[i].device)).sum()
                 for i, w in zip(graded, weights))
    e_grads = ember.autograd.grad(e_loss, e_leaves, allow_unused=True)
    for k, (e_g, t_g) in enumerate(zip(e_grads, t_grads)):
        if e_g is None or t_g is None:  # "no dependence" and "all zeros" agree
            other = t_g if e_g is None else e_g
            assert other is None or not np.any(other.detach().cpu().numpy()), f"{what}: gradient {k}"
        else:
            _compare(e_g, t_g, f"{what}: gradient {k}")


# --------------------------------------------------------------------------


@pytest.mark.parametrize("floating", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name, variant, kind", CASES, ids=[_label(*case) for case in CASES])
def test_tensor_op_on_torchs_samples(name, variant, kind, floating, device):
    op = next(o for o in op_db if o.name == name and o.variant_test_name == variant)
    torch_fn = dict(_forms(op))[kind]
    ember_fn = _ember_callable(op, torch_fn)
    dtype = _sample_dtype(op, floating)
    if dtype is None:
        pytest.skip(f"torch's CPU {name} does not take {floating}")
    requires_grad = op.supports_autograd and dtype.is_floating_point
    samples = op.sample_inputs("cpu", dtype, requires_grad=requires_grad)
    _check_all(f"{_label(name, variant, kind)} {_dtype_name(dtype)}", samples,
               lambda sample: _check_sample(op, kind, torch_fn, ember_fn, sample, device))


ERROR_CASES = [case for case in CASES if case[2] == "function" and next(
    o for o in op_db if o.name == case[0] and o.variant_test_name == case[1]).error_inputs_func is not None]


@pytest.mark.parametrize("name, variant, kind", ERROR_CASES, ids=[_label(*case) for case in ERROR_CASES])
def test_tensor_op_errors_on_torchs_error_inputs(name, variant, kind):
    """torch's error inputs (the function form, as torch's own tests run them): ember raises
    the exception type torch raises."""
    op = next(o for o in op_db if o.name == name and o.variant_test_name == variant)
    torch_fn = op.op
    ember_fn = _ember_callable(op, torch_fn)
    # a method form on a non-tensor input is not a call Python code can make
    inputs = [e.sample_input for e in op.error_inputs("cpu")
              if not _is_method(torch_fn) or isinstance(e.sample_input.input, torch.Tensor)]
    _check_all(f"{_label(name, variant, kind)} errors", inputs,
               lambda sample: _check_error(op, torch_fn, ember_fn, sample))


def _check_error(op, torch_fn, ember_fn, sample):
    what = f"{op.name} input={_describe(sample.input)} args={str(sample.args)[:100]} kwargs={sample.kwargs}"

    def ember_call():
        e_input, e_args, e_kwargs = _to_ember((sample.input, sample.args, sample.kwargs), {})
        return ember_fn(e_input, *e_args, **e_kwargs)
    # where this torch version accepts the input there is nothing to compare
    same_outcome(ember_call, (), lambda: torch_fn(sample.input, *sample.args, **sample.kwargs), errors_only=True,
                 exact_type=True, quiet=True, what=what)


def _check_all(label, samples, check):
    """Run ``check`` on every sample in scope, count the outcomes under ``label``, fail if any differ."""
    failures = []
    for sample in samples:
        reason = _out_of_scope(sample)
        if reason is not None:
            sample_counts.add(label, f"skipped: {OUT_OF_SCOPE[reason]}")
            continue
        try:
            check(sample)
        except Exception as error:  # noqa: BLE001 - ember raised or differs: counted, reported below
            prefix = "" if isinstance(error, AssertionError) else f"{type(error).__name__} in ember: "
            failures.append(prefix + " | ".join(line.strip() for line in str(error).splitlines() if line.strip())[:500])
            sample_counts.add(label, "failed")
        else:
            sample_counts.add(label, "passed")
    assert not failures, f"{len(failures)} of torch's samples differ:\n" + "\n".join(failures[:8])
