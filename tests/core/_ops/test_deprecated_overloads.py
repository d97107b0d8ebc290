"""PyTorch 1.0's forms with the scale factors first (``x.add_(alpha, other)``,
``addcmul(input, value, t1, t2)``, ``addmm(beta, input, alpha, m1, m2)``, ...): values,
gradients, warnings and refusals compared with torch 2.13, which still takes them."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
ARRAYS = {"a": RNG.standard_normal((3, 4)), "b": RNG.standard_normal((3, 4)), "c": RNG.uniform(1, 2, (3, 4)),
          "m": RNG.standard_normal((3, 5)), "n": RNG.standard_normal((5, 4)), "v": RNG.standard_normal(4),
          "w": RNG.standard_normal(3), "B": RNG.standard_normal((2, 3, 5)), "C": RNG.standard_normal((2, 5, 4)),
          "D": RNG.standard_normal((2, 3, 4))}

# (name warned, call): ``call(lib, t)`` with ``t`` the tensors above in lib
FORMS = [
    ("add", lambda L, t: t["a"].add(2.5, t["b"])),
    ("add", lambda L, t: L.add(t["a"], -3, t["b"])),
    ("add", lambda L, t: t["a"].add(L.tensor(2.0, dtype=L.float64), t["b"])),
    ("add", lambda L, t: t["a"].add(2, 3)),
    ("sub", lambda L, t: t["a"].sub(0.5, t["b"])),
    ("sub", lambda L, t: L.sub(t["a"], 2, t["b"])),
    ("add_", lambda L, t: t["a"].clone().add_(2.5, t["b"])),
    ("sub_", lambda L, t: t["a"].clone().sub_(-1.5, t["b"])),
    ("addcmul", lambda L, t: L.addcmul(t["a"], 0.5, t["b"], t["c"])),
    ("addcmul", lambda L, t: t["a"].addcmul(2, t["b"], t["c"])),
    ("addcmul_", lambda L, t: t["a"].clone().addcmul_(-2, t["b"], t["c"])),
    ("addcdiv", lambda L, t: L.addcdiv(t["a"], 0.5, t["b"], t["c"])),
    ("addcdiv", lambda L, t: t["a"].addcdiv(3, t["b"], t["c"])),
    ("addcdiv_", lambda L, t: t["a"].clone().addcdiv_(0.1, t["b"], t["c"])),
    ("addmm", lambda L, t: L.addmm(0.5, t["a"], 2, t["m"], t["n"])),
    ("addmm", lambda L, t: L.addmm(0.5, t["a"], t["m"], t["n"])),
    ("addmm", lambda L, t: t["a"].addmm(0.5, 2, t["m"], t["n"])),
    ("addmm", lambda L, t: t["a"].addmm(0.25, t["m"], t["n"])),
    ("addmm_", lambda L, t: t["a"].clone().addmm_(2, 3, t["m"], t["n"])),
    ("addmm_", lambda L, t: t["a"].clone().addmm_(2, t["m"], t["n"])),
    ("addmv", lambda L, t: L.addmv(2, t["w"], 3, t["a"], t["v"])),
    ("addmv", lambda L, t: L.addmv(2, t["w"], t["a"], t["v"])),
    ("addmv", lambda L, t: t["w"].addmv(2, 3, t["a"], t["v"])),
    ("addmv_", lambda L, t: t["w"].clone().addmv_(2, t["a"], t["v"])),
    ("addmv_", lambda L, t: L.addmv_(2, t["w"].clone(), 0.5, t["a"], t["v"])),
    ("addr", lambda L, t: L.addr(2, t["a"], 3, t["w"], t["v"])),
    ("addr", lambda L, t: t["a"].addr(2, 3, t["w"], t["v"])),
    ("addr_", lambda L, t: t["a"].clone().addr_(2, t["w"], t["v"])),
    ("addbmm", lambda L, t: L.addbmm(2, t["a"], 3, t["B"], t["C"])),
    ("addbmm", lambda L, t: t["a"].addbmm(2, 3, t["B"], t["C"])),
    ("addbmm_", lambda L, t: t["a"].clone().addbmm_(2, t["B"], t["C"])),
    ("baddbmm", lambda L, t: L.baddbmm(2, t["D"], 3, t["B"], t["C"])),
    ("baddbmm", lambda L, t: t["D"].baddbmm(2, 3, t["B"], t["C"])),
    ("baddbmm_", lambda L, t: t["D"].clone().baddbmm_(2, t["B"], t["C"])),
]
IDS = [f"{i}-{name}" for i, (name, _) in enumerate(FORMS)]


def _tensors(lib, requires_grad=False):
    return {k: lib.tensor(v, dtype=lib.float64, requires_grad=requires_grad) for k, v in ARRAYS.items()}


@pytest.mark.parametrize("name,call", FORMS, ids=IDS)
def test_values_and_warning_as_torch(name, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = call(torch, _tensors(torch)).numpy()
    with pytest.warns(UserWarning, match=rf"^This overload of {name} is deprecated") as caught:
        got = call(ember, _tensors(ember)).numpy()
    assert caught[0].filename == __file__  # the warning points at the caller
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,call", [f for f in FORMS if not f[0].endswith("_")],
                         ids=[i for i, f in zip(IDS, FORMS) if not f[0].endswith("_")])
def test_gradients_as_torch(name, call):
    grads = []
    for lib in (torch, ember):
        t = _tensors(lib, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = call(lib, t)
        if not out.requires_grad:
            continue
        (out * lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))).sum().backward()
        grads.append({k: None if x.grad is None else x.grad.numpy() for k, x in t.items()})
    if not grads:
        return
    expected, got = grads
    assert expected.keys() == got.keys()
    for k in expected:
        assert (expected[k] is None) == (got[k] is None), k
        if expected[k] is not None:
            np.testing.assert_allclose(got[k], expected[k], rtol=1e-12, atol=1e-12, err_msg=k)


def test_in_place_forms_write_into_the_tensor_and_its_views():
    base = ember.zeros(2, 3, dtype=ember.float64)
    row = base[0]
    with pytest.warns(UserWarning):
        out = row.add_(2, ember.ones(3, dtype=ember.float64))
    assert out is row and base.tolist() == [[2.0] * 3, [0.0] * 3]
    x = ember.ones(3, dtype=ember.float64)
    before = x._version
    with pytest.warns(UserWarning):
        x.addcmul_(2, x, x)
    assert x.tolist() == [3.0] * 3 and x._version > before


def test_in_place_form_records_the_gradient_as_torch():
    grads = []
    for lib in (torch, ember):
        a = lib.tensor(ARRAYS["a"], requires_grad=True)
        b = lib.tensor(ARRAYS["b"], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = (a * 1).sub_(3, b * b)
        y.sum().backward()
        grads.append((a.grad.numpy(), b.grad.numpy()))
    for e, t in zip(*grads):
        np.testing.assert_allclose(e, t, rtol=1e-12)


def test_torch_warns_the_same_category_and_prefix():
    """torch warns once per process (for all these overloads together) unless told to warn
    always: a fresh process, told so, lists its warnings."""
    script = (
        "import warnings, torch\n"
        "torch.set_warn_always(True)\n"
        "a, b, m, v = torch.ones(2, 2), torch.ones(2, 2), torch.ones(2, 2), torch.ones(2)\n"
        "calls = [lambda: a.add(2, b), lambda: a.clone().add_(2, b), lambda: torch.sub(a, 2, b),\n"
        "         lambda: a.addcmul(2, b, b), lambda: a.clone().addcdiv_(2, b, b),\n"
        "         lambda: torch.addmm(2, a, 3, m, m), lambda: a.clone().addmm_(2, m, m),\n"
        "         lambda: torch.addmv_(2, v.clone(), m, v)]\n"
        "for call in calls:\n"
        "    with warnings.catch_warnings(record=True) as w:\n"
        "        warnings.simplefilter('always')\n"
        "        call()\n"
        "    print(w[0].category.__name__, str(w[0].message).split(':')[0])\n")
    lines = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    expected = ["UserWarning This overload of " + n + " is deprecated"
                for n in ("add", "add_", "sub", "addcmul", "addcdiv_", "addmm", "addmm_", "addmv_")]
    assert lines == expected


@pytest.mark.parametrize("call,error", [
    (lambda L, t: t["a"].add(t["b"], 2), TypeError),           # alpha must come first
    (lambda L, t: t["a"].add("x", t["b"]), TypeError),
    (lambda L, t: t["a"].addcmul(t["b"], 2, t["c"]), TypeError),
    (lambda L, t: t["a"].addmm(2, 3, t["m"], t["n"], beta=1), TypeError),
    (lambda L, t: L.addmm(2, t["a"], 3, t["m"], t["n"], alpha=1), TypeError),
    (lambda L, t: t["a"].addcmul_(2, t["b"], t["c"], value=3), TypeError),
    (lambda L, t: t["a"].add(True, t["b"]), RuntimeError),      # boolean alpha on a float result
    (lambda L, t: t["a"].long().add(2.5, t["b"].long()), RuntimeError),
    (lambda L, t: t["a"].clone().add_(2, L.ones(5, dtype=L.float64)), RuntimeError),
    (lambda L, t: L.addmm(2, t["a"], 3, t["n"], t["m"]), RuntimeError),
])
def test_bad_deprecated_calls_raise_as_torch(call, error):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error):
            call(torch, _tensors(torch))
        with pytest.raises(error):
            call(ember, _tensors(ember))


def test_the_ordinary_forms_do_not_warn():
    t = _tensors(ember)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t["a"].add(t["b"], alpha=2)
        t["a"].clone().add_(t["b"], alpha=2)
        t["a"].clone().sub_(t["b"])
        ember.addcmul(t["a"], t["b"], t["c"], value=2)
        t["a"].clone().addmm_(t["m"], t["n"], beta=2, alpha=3)
        ember.addmv(t["w"], t["a"], t["v"], beta=0.5)
        t["a"] += t["b"]
