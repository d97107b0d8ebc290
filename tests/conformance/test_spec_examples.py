"""Run the examples of the spec (torch-nn-1.0.md) with torch and with ember.

The spec's Python code blocks are extracted at collection time from the sections
whose layers exist in ember (parameters, containers, convolution, pooling,
padding, activations, normalization, recurrent, linear, dropout, sparse,
distance, losses, vision and the utilities). Each example runs
twice, statement by statement: once with ``torch`` / ``nn`` / ``F`` bound to
torch 2.13 and once bound to ember / ember.nn / ember.nn.functional. Then:

* every statement that raises with torch must raise with ember too (same type);
* what the example prints must be the same text (``ember`` read as ``torch``);
* every tensor the example leaves in its namespace must have torch's shape,
  dtype, ``requires_grad``, ``is_leaf`` and gradient; values are compared too
  unless the example draws dropout masks or RReLU slopes. To make the rest
  reproducible, ``randn``, ``rand`` and ``randint`` are served to both runs
  from one seeded NumPy generator, and after each statement ember receives
  torch's initial parameters of every new module and torch's values of tensors
  filled by ``random_`` (the two runs go in lockstep, statement by statement);
* every module left in the namespace must print the same and hold parameters
  and buffers of the same names, shapes and dtypes;
* both runs must emit the same categories of warnings.

Examples that need a layer family which does not exist yet are skipped by an
explicit list of names (``OUT_OF_SCOPE``); the skip reason names the layer. An
example whose first statements are in scope runs up to the first statement
that is not (its test id ends with ``until-<name>``).
"""

import contextlib
import io
import re
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import ember
from tests.oracle import as_numpy, tol, torch

SPEC = Path(__file__).resolve().parents[2] / ".." / "shared" / "spec" / "torch-nn-1.0.md"

# Level-2 sections of the spec whose examples are in scope (matched by prefix).
SECTIONS = ("Parameters", "Containers", "Convolution layers", "池化层", "填充层",
            "非线性激活", "Non-linear activations", "Normalization layers", "Recurrent layers", "Linear layers",
            "Dropout layers", "Sparse layers", "Distance functions", "Loss functions",
            "Vision layers", "Utilities")
# Within "Utilities", only these entries are in scope.
UTILITIES = ("clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
             "vector_to_parameters", "weight_norm", "remove_weight_norm", "spectral_norm",
             "remove_spectral_norm", "PackedSequence", "pack_padded_sequence",
             "pad_packed_sequence", "pad_sequence", "pack_sequence")

# Names whose presence puts an example out of scope: the layer families that
# do not exist yet (parallel) and the
# utilities of those families. A matching example is skipped with the name.
OUT_OF_SCOPE = ("DataParallel",)
# Examples of the 1.0 spec that torch 2.13 rejects, by section title: the
# fragment of torch's message. ember must raise the same exception type.
TORCH_REJECTS = {
    # integer images: upsampling kernels are floating-point only since 1.x
    "UpsamplingNearest2d": ("not implemented for 'Long'",),
    "UpsamplingBilinear2d": ("not implemented for 'Long'",),
    # the example's input has 1 block where its output_size needs 12
    "Fold": ("calculated number of sliding blocks",),
}
# torch 2.13 deprecates these 1.0 functions (FutureWarning); ember keeps them
# without a warning, having no replacement API to point to.
TORCH_DEPRECATED = ("weight_norm", "remove_weight_norm")
_OUT_OF_SCOPE_RE = re.compile(r"\b(" + "|".join(OUT_OF_SCOPE) + r")\w*")

# Context some fragments assume (``model``, ``self``, ``module``...): defined
# before the block runs, per level-3 section.
_MODULE_CONTEXT = """
class _Net(nn.Module):
    def __init__(self):
        super(_Net, self).__init__()
        self.fc1 = nn.Linear(5, 20)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(20, 1)
        self.register_buffer('running_var', torch.ones(20))
        self.register_buffer('steps', torch.zeros(1, dtype=torch.long))

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))

model = _Net()
self = _Net()
module = nn.Linear(2, 2)
num_features = 20
"""
PRELUDE = {"Module（模块）": _MODULE_CONTEXT}

# Blocks that only define a Module class: a call that exercises it, appended
# per level-3 section.
EXERCISE = {
    "ModuleList (模块列表)": ["_m = MyModule()", "_out = _m(torch.randn(4, 10))",
                              "_out.sum().backward()", "_g = _m.linears[3].weight.grad"],
    "ParameterList (参数列表)": ["_m = MyModule()", "_out = _m(torch.randn(10, 3))",
                                "_out.sum().backward()", "_g = _m.params[0].grad"],
    "ParameterDict (参数词典)": ["_m = MyModule()", "_out = _m(torch.randn(10, 3), 'left')",
                                "_out.sum().backward()", "_g = _m.params['left'].grad"],
}

# Randomness the test cannot reproduce in both libraries (random masks and slopes).
_RANDOM_RE = re.compile(r"nn\.(Dropout\w*|AlphaDropout|RReLU|FractionalMaxPool\w*)\b"
                        r"|F\.(dropout\w*|alpha_dropout|rrelu|fractional_max_pool\w*)\b")


# --------------------------------------------------------------------------- parsing

def _code_blocks(text):
    """Yield (level-2 title, level-3 title, first line number, lines) per fenced block."""
    lines = text.split("\n")
    h2 = h3 = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            h2, h3 = line[3:].strip(), None
        elif line.startswith("### "):
            h3 = line[4:].strip()
        elif line.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            yield h2, h3, i + 2, lines[i + 1:j]
            i = j
        i += 1


def _is_example(lines):
    """An example has ``>>>`` prompts, or is several lines of valid Python."""
    if any(line.startswith(">>>") for line in lines):
        return True
    code = [line for line in lines if line.strip()]
    if len(code) < 2:
        return False
    try:
        compile("\n".join(lines), "<spec>", "exec")
    except SyntaxError:
        return False
    return True


def _unclosed(source):
    """True when ``source`` opens more brackets than it closes."""
    return sum(source.count(c) for c in "([{") > sum(source.count(c) for c in ")]}")


def _statements(lines):
    """Split an example into statements (lists of source lines).

    Doctest-style blocks: a ``>>>`` line starts a statement; a statement that
    opens a suite (ends with ``:``) takes the following prompt lines that are
    indented, and the unprompted lines whose indentation the conversion to
    Markdown flattened to one space (each ``:`` opens one more level); anything
    else without a prompt is printed output and is ignored. Blocks without
    prompts are one statement. Unprompted lines continue a statement whose
    brackets are still open.
    """
    if not any(line.startswith(">>>") for line in lines):
        return ["\n".join(lines)]
    stmts, cur, depth, suite = [], None, 0, False

    def flush():
        if cur and any(part.strip() for part in cur):
            stmts.append("\n".join(cur))

    for line in lines:
        if line.startswith(">>>"):
            body = line[4:] if line.startswith(">>> ") else line[3:]
            if cur is not None and suite and body[:1] in (" ", "\t"):
                cur.append(body)
                continue
            flush()
            cur = [body]
            suite = body.rstrip().endswith(":")
            depth = 1
        elif cur is not None and _unclosed("\n".join(cur)):
            cur.append(line)  # a bracket spanning lines lost its "..." prompts
        elif cur is not None and suite and line.strip() and line[:1] in (" ", "\t"):
            stripped = line.strip()
            cur.append("    " * depth + stripped)
            if stripped.endswith(":"):
                depth += 1
        else:
            flush()
            cur, suite = None, False
    flush()
    return stmts


def _collect():
    if not SPEC.is_file():
        return []
    params = []
    count = {}
    for h2, h3, lineno, lines in _code_blocks(SPEC.read_text(encoding="utf-8")):
        if h2 is None or not h2.startswith(SECTIONS) or not _is_example(lines):
            continue
        if h2.startswith("Utilities") and h3 not in UTILITIES:
            continue
        title = h3 or h2
        count[title] = count.get(title, 0) + 1
        ident = f"{re.sub(r'[^A-Za-z0-9_]+', '', title.split(' ')[0].split('（')[0])}-{count[title]}"
        stop, marks = None, []
        for k, stmt in enumerate(_statements(lines)):
            hit = _OUT_OF_SCOPE_RE.search(stmt)
            if hit and k == 0:
                marks.append(pytest.mark.skip(reason=f"uses {hit.group(0)} (layer family not in ember yet)"))
            elif hit:  # run the statements before the first out-of-scope one
                stop, ident = k, f"{ident}-until-{hit.group(0)}"
            if hit:
                break
        params.append(pytest.param(title, lineno, lines, stop, id=f"L{lineno}-{ident}", marks=marks))
    return params


# --------------------------------------------------------------------------- running

class _Lib:
    """``torch`` as the examples see it: the library, with ``randn``, ``rand`` and
    ``randint`` drawn from a NumPy generator shared by both runs."""

    def __init__(self, lib, rng):
        self._lib, self._rng = lib, rng

    def __getattr__(self, name):
        return getattr(self._lib, name)

    def _make(self, arr, dtype, requires_grad):
        t = self._lib.tensor(arr)
        t = t.to(dtype if dtype is not None else self._lib.get_default_dtype())
        return t.requires_grad_(requires_grad)

    @staticmethod
    def _size(size):
        return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size

    def randn(self, *size, dtype=None, requires_grad=False, **kwargs):
        return self._make(self._rng.standard_normal(self._size(size)), dtype, requires_grad)

    def rand(self, *size, dtype=None, requires_grad=False, **kwargs):
        return self._make(self._rng.random(self._size(size)), dtype, requires_grad)

    def randint(self, *args, dtype=None, requires_grad=False, **kwargs):
        low, high, size = (0, *args) if len(args) == 2 else args
        arr = self._rng.integers(low, high, size=tuple(size), dtype=np.int64)
        t = self._lib.tensor(arr)
        return t.to(dtype) if dtype is not None else t


def _importer(lib_proxy, lib):
    """``__import__`` that serves ``torch`` and its submodules from ``lib``."""
    real = __import__

    def imp(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "torch" or name.startswith("torch."):
            target = lib.__name__ + name[len("torch"):]
            mod = real(target, globals, locals, fromlist, level)
            return mod if fromlist else lib_proxy
        return real(name, globals, locals, fromlist, level)
    return imp


def _namespace(lib):
    """A fresh namespace where ``torch``, ``nn``, ``F`` and ``Variable`` come from ``lib``."""
    proxy = _Lib(lib, np.random.default_rng(1234))
    builtins = dict(__builtins__ if isinstance(__builtins__, dict) else vars(__builtins__))
    builtins["__import__"] = _importer(proxy, lib)
    variable = getattr(lib.autograd, "Variable", None) or (lambda t, **kw: t)
    # the utilities' examples call them by bare name (``from torch.nn.utils import ...``)
    utils = {name: getattr(lib.nn.utils, name, None) or getattr(lib.nn.utils.rnn, name)
             for name in UTILITIES}
    return {"__builtins__": builtins, "__name__": "spec_example", "torch": proxy, "nn": lib.nn,
            "F": lib.nn.functional, "Variable": variable, "OrderedDict": OrderedDict, **utils}


def _exec(src, ns, out, caught):
    """Run one statement; return the exception it raised, or None."""
    with warnings.catch_warnings(record=True) as seen, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        try:
            exec(compile(src, "<spec example>", "exec"), ns)
        except Exception as exc:  # compared with torch's outcome by the caller
            return exc
        finally:
            caught.extend(sorted({w.category.__name__ for w in seen}))
    return None


def _sync(t_ns, e_ns, src, synced):
    """Give ember torch's random draws that the test cannot reproduce otherwise:
    the initial parameters and buffers of each module the first time it appears,
    and tensors filled by ``random_``. ``synced`` maps ``id`` to the module and
    so keeps it alive: a freed module's ``id`` could otherwise be reused by a
    new one, which would then never be synced."""
    with ember.no_grad():
        for name, e in e_ns.items():
            t = t_ns.get(name)
            if isinstance(e, ember.nn.Module) and isinstance(t, torch.nn.Module) and id(e) not in synced:
                synced[id(e)] = e
                t_state = dict(t.named_parameters(), **dict(t.named_buffers()))
                e_state = dict(e.named_parameters(), **dict(e.named_buffers()))
                assert sorted(e_state) == sorted(t_state), f"{name}: parameters/buffers differ"
                for key, ev in e_state.items():
                    ev.copy_(ember.tensor(as_numpy(t_state[key])).to(ev.dtype))
            elif ".random_(" in src and isinstance(e, ember.Tensor) and isinstance(t, torch.Tensor) \
                    and tuple(e.shape) == tuple(t.shape):
                e.copy_(ember.tensor(as_numpy(t)).to(e.dtype))


def _statements_of(title, lines, stop):
    stmts = [PRELUDE[title]] if title in PRELUDE else []
    stmts += _statements(lines)[:stop]
    if title in EXERCISE:
        stmts += EXERCISE[title]
    return stmts


def _tensors(ns, cls):
    return {k: v for k, v in ns.items() if isinstance(v, cls) and k not in ("torch",)}


def _compare_values(name, e, t):
    a, b = as_numpy(e), as_numpy(t)
    bounds = tol(b.dtype)
    if b.dtype.kind == "f" and b.size:
        # Examples chain several ops (ten matmuls for ParameterList): float32
        # rounding then scales with the magnitude of the values, not per element.
        bounds = dict(rtol=10 * bounds["rtol"], atol=bounds["atol"] + 10 * bounds["rtol"] * np.nanmax(np.abs(b)))
    np.testing.assert_allclose(a, b, equal_nan=True, err_msg=name, **bounds)


def _compare_tensor(name, e, t, values):
    assert tuple(e.shape) == tuple(t.shape), f"{name}: shape {tuple(e.shape)} != torch {tuple(t.shape)}"
    assert e.dtype.name == str(t.dtype).replace("torch.", ""), f"{name}: dtype {e.dtype} != torch {t.dtype}"
    assert e.requires_grad == t.requires_grad, f"{name}: requires_grad {e.requires_grad} != torch"
    assert e.is_leaf == t.is_leaf, f"{name}: is_leaf {e.is_leaf} != torch {t.is_leaf}"
    if values:
        _compare_values(name, e, t)
    if not t.is_leaf:  # .grad of a non-leaf is not populated (and warns)
        return
    assert (e.grad is None) == (t.grad is None), f"{name}: grad {e.grad is None} != torch {t.grad is None}"
    if e.grad is not None:
        _compare_tensor(name + ".grad", e.grad, t.grad, values)


def _norm(text):
    return text.replace("ember", "torch")


@pytest.mark.skipif(not SPEC.is_file(), reason=f"spec not found at {SPEC}")
@pytest.mark.parametrize("title, lineno, lines, stop", _collect())
def test_spec_example(title, lineno, lines, stop):
    stmts = _statements_of(title, lines, stop)
    t_ns, e_ns = _namespace(torch), _namespace(ember)
    t_out, e_out = io.StringIO(), io.StringIO()
    t_warn, e_warn, synced = [], [], {}
    for src in stmts:
        te = _exec(src, t_ns, t_out, t_warn)
        ee = _exec(src, e_ns, e_out, e_warn)
        if te is None:
            assert ee is None, f"ember raised {type(ee).__name__}: {ee}\nin:\n{src}"
        else:
            # Only a CPU-only torch asked for CUDA, or an example that torch 2.13
            # itself rejects (TORCH_REJECTS), may fail: anything else means the
            # example is not run as it should be.
            rejected = any(f in str(te) for f in TORCH_REJECTS.get(title, ()))
            assert rejected or "CUDA" in str(te), f"torch raised {type(te).__name__}: {te}\nin:\n{src}"
            assert ee is not None, f"torch raised {type(te).__name__}: {te}; ember did not\nin:\n{src}"
            if rejected:  # what follows depends on the rejected statement
                assert type(ee) is type(te), f"ember raised {type(ee).__name__}, torch {type(te).__name__}"
                break
        _sync(t_ns, e_ns, src, synced)
    t_print, e_print = t_out.getvalue(), e_out.getvalue()

    random = bool(_RANDOM_RE.search("\n".join(stmts)))
    assert _norm(e_print) == t_print, "printed output differs"

    tt, et = _tensors(t_ns, torch.Tensor), _tensors(e_ns, ember.Tensor)
    assert sorted(et) == sorted(tt), "tensor variables differ"
    for name in tt:
        _compare_tensor(name, et[name], tt[name], values=not random)

    tm, em = _tensors(t_ns, torch.nn.Module), _tensors(e_ns, ember.nn.Module)
    assert sorted(em) == sorted(tm), "module variables differ"
    for name in tm:
        assert _norm(repr(em[name])) == repr(tm[name]), f"{name}: repr differs"
        es, ts = em[name].state_dict(), tm[name].state_dict()
        assert list(es) == list(ts), f"{name}: state_dict keys differ"
        for key in ts:
            _compare_tensor(f"{name}.{key}", es[key], ts[key], values=not random)

    if title in TORCH_DEPRECATED:
        t_warn = [w for w in t_warn if w != "FutureWarning"]
    assert e_warn == t_warn, "warning categories differ"


# --------------------------------------------------------------------------- torch 1.0 idioms

def _warned(fn):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = fn()
    return out, [(w.category, str(w.message).replace("ember", "torch")) for w in seen]


@pytest.mark.parametrize("requires_grad, volatile", [(False, False), (True, False), (False, True)])
def test_variable_returns_a_detached_alias(requires_grad, volatile):
    x = np.array([1.0, -2.0, 3.0], dtype=np.float32)
    t_src, e_src = torch.tensor(x) * 2, ember.tensor(x) * 2
    t, t_warn = _warned(lambda: torch.autograd.Variable(t_src, requires_grad, volatile))
    e, e_warn = _warned(lambda: ember.autograd.Variable(e_src, requires_grad, volatile))
    assert type(e) is ember.Tensor and isinstance(e, ember.autograd.Variable)
    assert (e.requires_grad, e.is_leaf, e.grad_fn) == (t.requires_grad, t.is_leaf, None)
    assert [c for c, _ in e_warn] == [c for c, _ in t_warn]
    e_src.mul_(0)  # shares memory with its source, as torch's does
    assert float(e.detach().abs().sum()) == 0.0


def test_variable_errors_and_default():
    assert tuple(ember.autograd.Variable().shape) == tuple(torch.autograd.Variable().shape) == (0,)
    with pytest.raises(TypeError, match="has to be a tensor"):
        ember.autograd.Variable(3)
    with pytest.raises(RuntimeError, match="floating point"):
        ember.autograd.Variable(ember.arange(3), requires_grad=True)


@pytest.mark.parametrize("call", [
    "F.sigmoid(x)", "F.tanh(x)",
    "nn.MSELoss(size_average=False)(x, y)", "nn.L1Loss(reduce=False)(x, y)",
    "F.smooth_l1_loss(x, y, size_average=False)", "F.binary_cross_entropy(F.sigmoid(x), y.abs().clamp(0, 1), reduce=False)",
])
def test_torch10_spellings_warn_and_compute_like_torch(call):
    x = np.linspace(-1.5, 2.0, 6).reshape(2, 3)
    y = np.cos(x)
    t, t_warn = _warned(lambda: eval(call, {"F": torch.nn.functional, "nn": torch.nn,
                                            "x": torch.tensor(x), "y": torch.tensor(y)}))
    e, e_warn = _warned(lambda: eval(call, {"F": ember.nn.functional, "nn": ember.nn,
                                            "x": ember.tensor(x), "y": ember.tensor(y)}))
    assert e_warn == t_warn
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(as_numpy(e), as_numpy(t), **tol(np.float64))
