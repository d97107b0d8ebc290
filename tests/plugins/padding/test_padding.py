"""F.pad and the padding modules against torch 2.13: values, gradients, double
backward, gradcheck, errors and printed form."""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.oracle import as_numpy, assert_same, check, same_outcome, torch

TF = torch.nn.functional
DTYPES = [np.float64, np.float32]
MODES = ["reflect", "replicate", "circular"]


def _r(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# (input shape, pad): batched and unbatched, asymmetric, zero, negative, and
# pads of size - 1 (the largest reflect allows); valid for all three modes
GRID = [
    ((2, 3, 5), (1, 2)),
    ((3, 5), (2, 0)),
    ((1, 1, 5), (4, 4)),
    ((2, 3, 5), (0, 0)),
    ((2, 3, 5), (-1, 2)),
    ((2, 2, 6), (3, -2)),
    ((2, 3, 4, 5), (1, 2, 3, 0)),
    ((3, 4, 5), (1, 1, 1, 1)),
    ((1, 2, 4, 5), (4, 3, 3, 3)),
    ((2, 2, 4, 5), (-1, 2, 1, -2)),
    ((1, 2, 4, 5), (0, 0, 0, 0)),
    ((1, 2, 3, 4, 5), (1, 2, 0, 3, 2, 1)),
    ((2, 3, 4, 5), (1, 1, 1, 1, 1, 1)),
    ((1, 1, 3, 4, 5), (4, 4, 3, 3, 2, 2)),
    ((1, 2, 3, 4, 5), (-1, 1, 2, -1, 1, 0)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,pad", GRID)
@pytest.mark.parametrize("mode", MODES)
def test_pad_modes(mode, shape, pad, dtype):
    check(lambda x: EF.pad(x, pad, mode), [_r(shape, dtype)], lambda x: TF.pad(x, pad, mode))


@pytest.mark.parametrize("shape,pad", [((2, 3, 4), (6, 7)), ((2, 3, 4, 5), (0, 9, 5, 0)),
                                       ((1, 2, 2, 2, 2), (3, 0, 0, 3, 2, 2)), ((1, 2, 4), (-5, 3))])
def test_replicate_pads_larger_than_input(shape, pad):
    check(lambda x: EF.pad(x, pad, "replicate"), [_r(shape)], lambda x: TF.pad(x, pad, "replicate"))


@pytest.mark.parametrize("shape,pad", [((1, 2, 4), (4, 4)), ((1, 2, 4), (-1, 1)), ((1, 2, 4), (2, -2)),
                                       ((2, 3, 4), (-2, 2, 1, -2)), ((1, 2, 4), (-4, 0)), ((2, 0, 4), (1, 1))])
def test_circular_wrap_limits_and_cropping(shape, pad):
    check(lambda x: EF.pad(x, pad, "circular"), [_r(shape)], lambda x: TF.pad(x, pad, "circular"))


@pytest.mark.parametrize("mode", MODES + ["constant"])
@pytest.mark.parametrize("view", ["transpose", "step"])
def test_non_contiguous_input(mode, view):
    pad = (1, 2, 2, 1)
    if view == "transpose":
        def fn(F):
            return lambda x: F.pad(x.transpose(-1, -2), pad, mode)
        shape = (2, 3, 6, 5)
    else:
        def fn(F):
            return lambda x: F.pad(x[:, ::2, :, 1::2], pad, mode)
        shape = (2, 5, 4, 7)
    for dtype in DTYPES:
        check(fn(EF), [_r(shape, dtype)], fn(TF))


CONSTANT_GRID = [
    ((2, 3, 4), (1, 2), None),
    ((5,), (2, 3), 1.5),
    ((2, 3, 4), (1, 1, 2, 0, 0, 3), -2.0),
    ((2, 3, 4, 5), (1, 0, 0, 1, 1, 1, 2, 0), 0.25),
    ((1, 2, 3, 4, 5), (1, 1, 1, 1, 1, 1), 0.0),
    ((2, 3, 4), (-1, 2, 0, -2), 3.0),
    ((2, 3, 4), (-2, -2), 1.0),
    ((2, 3, 4), (2, -4), 1.0),
    ((2, 3, 4), (), None),
    ((2, 3, 4), (0, 0), 7.0),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,pad,value", CONSTANT_GRID)
def test_pad_constant(shape, pad, value, dtype):
    check(lambda x: EF.pad(x, pad, value=value), [_r(shape, dtype)], lambda x: TF.pad(x, pad, value=value))


@pytest.mark.parametrize("dtype,value", [(np.int64, 3), (np.int32, -1.9), (np.uint8, 255), (np.int8, -128),
                                         (np.int16, None), (np.bool_, 1), (np.bool_, 0.5), (np.bool_, None),
                                         (np.float16, 2.5)])
def test_pad_constant_other_dtypes(dtype, value, device):
    x = (np.arange(24).reshape(2, 3, 4) % 5).astype(dtype)
    pad = (1, 2, -1, 1)
    e = EF.pad(ember.tensor(x, device=device), pad, value=value)
    t = TF.pad(torch.from_numpy(x), pad, value=value)
    assert_same(e, t)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float16])
def test_non_constant_modes_other_dtypes(mode, dtype, device):
    x = np.arange(40).reshape(2, 4, 5).astype(dtype)
    e = EF.pad(ember.tensor(x, device=device), (2, 1, 1, 3), mode)
    t = TF.pad(torch.from_numpy(x), (2, 1, 1, 3), mode)
    assert_same(e, t)


def test_circular_bool(device):
    x = np.arange(12).reshape(1, 3, 4) % 3 == 0
    assert_same(EF.pad(ember.tensor(x, device=device), (2, 1), "circular"),
                TF.pad(torch.from_numpy(x), (2, 1), "circular"))


@pytest.mark.parametrize("mode,pad,name", [
    ("reflect", (1, 1), "ReflectionPad1DBackward0"), ("reflect", (1, 1, 1, 1), "ReflectionPad2DBackward0"),
    ("reflect", (1,) * 6, "ReflectionPad3DBackward0"), ("replicate", (1, 1), "ReplicationPad1DBackward0"),
    ("replicate", (1,) * 4, "ReplicationPad2DBackward0"), ("replicate", (1,) * 6, "ReplicationPad3DBackward0"),
    ("constant", (1,) * 8, "ConstantPadNdBackward0"), ("circular", (1, 1), "CopySlices"),
])
def test_grad_fn_names(mode, pad, name, device):
    shape = (2, 2, 3, 3, 3)[-(len(pad) // 2 + 2):]
    t = TF.pad(torch.zeros(shape, requires_grad=True), pad, mode)
    e = EF.pad(ember.zeros(shape, requires_grad=True, device=device), pad, mode)
    assert type(t.grad_fn).__name__ == name == type(e.grad_fn).__name__


@pytest.mark.parametrize("mode,shape,pad", [
    ("reflect", (1, 2, 4, 3), (2, 1, 3, 0)), ("replicate", (2, 3, 4), (3, 1)),
    ("circular", (1, 1, 2, 3, 3), (1, 2, 0, 1, 2, 1)), ("constant", (2, 3, 3), (1, -1, 2, 0)),
])
def test_gradgradcheck(mode, shape, pad, device):
    x = ember.tensor(_r(shape), device=device).requires_grad_()
    fn = lambda t: EF.pad(t, pad, mode, None if mode != "constant" else 2.0)  # noqa: E731
    assert ember.autograd.gradcheck(fn, [x], eps=1e-6, atol=1e-5, rtol=1e-3)
    assert ember.autograd.gradgradcheck(fn, [x], eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("mode", MODES + ["constant"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_pad_on_device(mode, dtype, device):
    pad = (1, 2, 2, 0)
    check(lambda x: EF.pad(x, pad, mode), [_r((2, 3, 4, 5), dtype)], lambda x: TF.pad(x, pad, mode),
          device=device, gradcheck=False)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_3d_on_device(mode, device):
    pad = (1, 0, 2, 1, 1, 1)
    check(lambda x: EF.pad(x, pad, mode), [_r((1, 2, 3, 4, 5), np.float32)], lambda x: TF.pad(x, pad, mode),
          device=device, gradcheck=False)


def test_constant_value_on_device(device):
    x = ember.tensor(_r((2, 3)), device=device)
    out = EF.pad(x, (1, 1, 0, 1), value=-3.0)
    assert_same(out, TF.pad(torch.from_numpy(_r((2, 3))), (1, 1, 0, 1), value=-3.0))


# --- errors: same exception type as torch, and the message names the problem ---

ERRORS = [
    ((2, 3, 4), (1,), "constant", None, "divisible by 2"),
    ((2, 3, 4), (1,) * 8, "reflect", None, "less than or equal to two times the input dimension"),
    ((2, 3, 4), (1, 1), "foo", None, "Unrecognised padding mode foo"),
    ((2, 3, 4), (1, 1), "reflect", 1.0, "doesn't take in value argument"),
    ((2, 3, 4), (1, 1), "circular", 2.0, "doesn't take in value argument"),
    ((3,), (1, 1), "reflect", None, "Padding size 2 is not supported for 1D input tensor"),
    ((2, 3, 4), (1,) * 6, "replicate", None, "Padding size 6 is not supported for 3D input tensor"),
    ((1, 1, 2, 3, 4, 5), (1,) * 6, "circular", None, "Padding size 6 is not supported for 6D input tensor"),
    ((2, 3, 4), (4, 0), "reflect", None, "Padding size should be less than the corresponding input dimension"),
    ((1, 2, 3, 4), (1, 1, 0, 3), "reflect", None, "Argument #6: Padding size should be less than"),
    ((1, 2, 3, 4, 5), (0, 0, 0, 0, 3, 0), "reflect", None, "Argument #8"),
    ((2, 3, 4), (-2, -2), "reflect", None, "input (W: 4) is too small. Calculated output W: 0"),
    ((2, 3, 4), (-3, -2), "replicate", None, "input (W: 4) is too small. Calculated output W: -1"),
    ((2, 3, 0), (1, 1), "reflect", None, "non-zero dimensions for input, but got: [2, 3, 0]"),
    ((0, 4), (1, 1), "replicate", None, "Expected 2D or 3D (batch mode) tensor"),
    ((1, 2, 0, 4), (1, 1, 1, 1), "replicate", None, "Expected 3D or 4D (batch mode) tensor"),
    ((2, 3, 4), (5, 0), "circular", None, "wrapping around more than once"),
    ((1, 2, 3, 4), (1, 1, 4, 1), "circular", None, "wrapping around more than once"),
    ((2, 3, 4), (-3, -2), "circular", None, "resulting in an empty dimension"),
    ((2, 3, 4), (-3, -2), "constant", None, "narrow(): length must be non-negative"),
    ((2, 3, 4), (-5, 1), "constant", None, "narrow(): length must be non-negative"),
    ((2, 3, 4), (1, 1), "constant", 1e39, "cannot be converted to type float without overflow"),
]


@pytest.mark.parametrize("shape,pad,mode,value,text", ERRORS)
def test_errors_match_torch(shape, pad, mode, value, text):
    ours, theirs = same_outcome(lambda x: EF.pad(x, pad, mode, value), [np.zeros(shape, dtype=np.float32)],
                                lambda x: TF.pad(x, pad, mode, value), raises=True, exact_type=True)
    assert text in theirs.message and text in ours.message


@pytest.mark.parametrize("dtype,value,ctype", [(np.uint8, -1, "uint8_t"), (np.int8, -129, "int8_t"),
                                               (np.int64, float("nan"), "int64_t"), (np.int32, 2 ** 31, "int"),
                                               (np.float16, 1e6, "c10::Half")])
def test_constant_value_overflow(dtype, value, ctype):
    ours, theirs = same_outcome(lambda x: EF.pad(x, (1, 1), "constant", value), [np.zeros((2, 3), dtype=dtype)],
                                lambda x: TF.pad(x, (1, 1), "constant", value), raises=True, exact_type=True)
    text = f"value cannot be converted to type {ctype} without overflow"
    assert text in theirs.message and text in ours.message


@pytest.mark.parametrize("pad,what", [((1.0, 1), "float"), ((True, 1), "bool"), (1, "int")])
def test_pad_argument_types(pad, what, device):
    with pytest.raises(TypeError, match=what):
        TF.pad(torch.zeros(2, 3), pad)
    with pytest.raises(TypeError, match=what):
        EF.pad(ember.zeros(2, 3, device=device), pad)


def test_bool_not_implemented_for_reflect_and_replicate():
    for mode, name in [("reflect", "reflection_pad1d"), ("replicate", "replication_pad1d")]:
        ours, _ = same_outcome(lambda x: EF.pad(x, (1, 1), mode), [np.zeros((1, 2, 3), dtype=np.bool_)],
                               lambda x: TF.pad(x, (1, 1), mode), raises=NotImplementedError, exact_type=True)
        assert name in ours.message and "Bool" in ours.message


@pytest.mark.parametrize("pad", [(-6, 3), (2, -4), (-5, 2), (2, -3)])
def test_circular_more_padding_than_kept_is_refused(pad, device):
    # torch fails inside or returns uninitialised memory here; ember refuses cleanly
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        EF.pad(ember.zeros(1, 1, 4, device=device), pad, "circular")


def test_reflect_batch_of_zero_and_empty_outputs(device):
    for mode in ["reflect", "replicate"]:
        assert_same(EF.pad(ember.zeros(0, 2, 3, 4, device=device), (1, 1, 1, 1), mode),
                    TF.pad(torch.zeros(0, 2, 3, 4), (1, 1, 1, 1), mode))
        assert_same(EF.pad(ember.zeros(1, 2, 4, 5, device=device), (0, 0, -2, -2), mode),
                    TF.pad(torch.zeros(1, 2, 4, 5), (0, 0, -2, -2), mode))
    assert_same(EF.pad(ember.zeros(2, 3, 4, device=device), (-5, 1), "circular"),
                TF.pad(torch.zeros(2, 3, 4), (-5, 1), "circular"))


# --- modules ---

MODULES = [
    ("ReflectionPad1d", (2,), (2, 3, 5)), ("ReflectionPad1d", ((3, 1),), (3, 5)),
    ("ReflectionPad2d", (1,), (2, 3, 4, 4)), ("ReflectionPad2d", ((1, 0, 2, 3),), (3, 4, 5)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 3, 3)), ("ReflectionPad3d", ((1, 0, 2, 1, 0, 1),), (2, 3, 4, 3)),
    ("ReplicationPad1d", ((3, 1),), (2, 3, 4)), ("ReplicationPad2d", (2,), (3, 4, 2)),
    ("ReplicationPad3d", ((1, 2, 0, 1, 3, 0),), (1, 2, 2, 3, 2)),
    ("ZeroPad1d", ((2, 1),), (2, 3)), ("ZeroPad2d", ((1, 1, 2, 0),), (1, 1, 3, 3)),
    ("ZeroPad3d", (1,), (2, 2, 2, 2)),
    ("ConstantPad1d", (2, 3.5), (1, 2, 4)), ("ConstantPad2d", ((3, 0, 2, 1), -1.5), (1, 2, 2)),
    ("ConstantPad3d", ((1, 2, 0, 1, 1, 0), 2), (1, 1, 2, 2, 3)),
    ("CircularPad1d", ((3, 1),), (2, 3, 4)), ("CircularPad2d", (1,), (3, 4, 2)),
    ("CircularPad3d", ((1, 2, 0, 1, 2, 0),), (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,args,shape", MODULES)
def test_modules(name, args, shape, dtype):
    e_m, t_m = getattr(ember.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(e_m) == repr(t_m)
    assert e_m.padding == t_m.padding and type(e_m.padding) is tuple
    check(e_m, [_r(shape, dtype)], t_m, gradcheck=dtype == np.float64)


@pytest.mark.parametrize("name,args", [("ZeroPad2d", ([1, 2, 3, 4],)), ("ConstantPad1d", (1, 0)),
                                       ("ReflectionPad3d", ((1, 2, 3, 4, 5, 6),)), ("CircularPad2d", (0,))])
def test_module_repr_and_attributes(name, args):
    e_m, t_m = getattr(ember.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(e_m) == repr(t_m)
    assert str(ember.nn.Sequential(e_m)) == str(torch.nn.Sequential(t_m))
    assert e_m.padding == t_m.padding
    if hasattr(t_m, "value"):
        assert e_m.value == t_m.value


@pytest.mark.parametrize("name,bad", [("CircularPad1d", (2, 3, 4, 5)), ("CircularPad2d", (2, 3)),
                                      ("CircularPad3d", (2, 3, 4))])
def test_circular_modules_check_dims(name, bad, device):
    with pytest.raises(ValueError, match="input"):
        getattr(torch.nn, name)(1)(torch.zeros(bad))
    with pytest.raises(ValueError, match=f"got {len(bad)}D input"):
        getattr(ember.nn, name)(1)(ember.zeros(bad, device=device))


def test_module_on_device(device):
    m = ember.nn.ReflectionPad2d((1, 2, 0, 1))
    x = ember.tensor(_r((2, 3, 4, 5)), device=device).requires_grad_()
    m(x).sum().backward()
    t = torch.from_numpy(_r((2, 3, 4, 5))).requires_grad_()
    torch.nn.ReflectionPad2d((1, 2, 0, 1))(t).sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), as_numpy(t.grad), rtol=1e-12)


def test_cpu_kernels_match_generic():
    """The Cython kernels and the generic NumPy ones agree (the generic is what CuPy runs)."""
    pytest.importorskip("ember.plugins.padding._pad")
    from ember.plugins.padding.kernels import table

    kernels = table()
    x = _r((2, 3, 4, 5, 6), np.float32)
    spec = ((4, 1, 2), (5, -1, 3), (6, 2, 2))
    for mode in MODES:
        y = kernels[(f"padding.{mode}", "generic")](np)(x, spec)
        for op, arg in ((f"padding.{mode}", x), (f"padding.{mode}_adjoint", y)):
            cpu, generic = kernels[(op, "cpu")], kernels[(op, "generic")](np)
            assert cpu.accepts(arg, spec)
            np.testing.assert_allclose(cpu.fn(arg, spec), generic(arg, spec), rtol=1e-6)


def test_cython_kernel_rejects_bad_maps():
    _pad = pytest.importorskip("ember.plugins.padding._pad")
    x = np.zeros((1, 1, 2, 3))
    ok = np.array([0], dtype=np.int64)
    with pytest.raises(IndexError):
        _pad.gather3d(x, ok, np.array([0, 2], dtype=np.int64), np.array([0, 1, 2], dtype=np.int64), (0, 3, 0))
    with pytest.raises(IndexError):
        _pad.gather3d(x, ok, ok, np.array([0, 1, 2], dtype=np.int64), (0, 3, 1))
    with pytest.raises(ValueError):
        _pad.scatter_add3d(np.zeros((1, 1, 2, 3)), ok, ok, np.array([0, 1, 2], dtype=np.int64), (0, 3, 0), 1, 1, 3)
