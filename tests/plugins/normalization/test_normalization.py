"""Batch, instance, layer, group and local response norm against torch 2.13:
outputs, input and parameter gradients, double backward, running buffers over
several training steps, eval outputs, state dicts, reprs and error types."""

import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.oracle import as_numpy, assert_same, check, placed, same_outcome, tol, torch
from tests.plugins.library_tensors import lib_tensor

TF = torch.nn.functional
DTYPES = [np.float64, np.float32]
E_DT = {np.float64: ember.float64, np.float32: ember.float32}
T_DT = {np.float64: torch.float64, np.float32: torch.float32}


def _r(shape, dtype=np.float64, seed=0, loc=0.0):
    return (np.random.default_rng(seed).standard_normal(shape) + loc).astype(dtype)


def _pos(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 1.5, shape).astype(dtype)


def _opts(shape, dtype):
    """check() options: double backward compared in float64 only (in float32 it
    differentiates rounding noise for tiny groups), finite differences only on
    the small shapes (they cost one forward per input element)."""
    return dict(double=dtype == np.float64, gradcheck=int(np.prod(shape)) <= 24)


def _close(e, t, dtype, what, scale=1):
    """Compare values; ``scale`` widens float32 tolerances for long sums."""
    kw = tol(dtype)
    if dtype == np.float32:
        kw = dict(rtol=kw["rtol"] * scale, atol=kw["atol"] * scale)
    np.testing.assert_allclose(as_numpy(e), as_numpy(t), **kw, err_msg=what)


# ---------------------------------------------------------------- functionals

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 5), (2, 3, 4, 3), (2, 3, 2, 3, 2), (1, 3, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_functional(shape, affine, dtype):
    c = shape[1]
    inputs = [_r(shape, dtype, loc=2.0)]
    if affine:
        inputs += [_pos((c,), dtype, 1), _r((c,), dtype, 2)]

    def fn(x, w=None, b=None):
        lib = EF if isinstance(x, ember.Tensor) else TF
        return lib.batch_norm(x, None, None, w, b, True, 0.1, 1e-5)

    check(fn, inputs, **_opts(shape, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_eval_functional(shape, affine, dtype):
    c = shape[1]
    rm, rv = _r((c,), dtype, 5), _pos((c,), dtype, 6)
    inputs = [_r(shape, dtype)] + ([_pos((c,), dtype, 1), _r((c,), dtype, 2)] if affine else [])

    def fn(x, w=None, b=None):
        if isinstance(x, ember.Tensor):
            rm_, rv_ = ember.tensor(rm, device=x.device), ember.tensor(rv, device=x.device)
            return EF.batch_norm(x, rm_, rv_, w, b, False, 0.1, 1e-3)
        return TF.batch_norm(x, torch.tensor(rm), torch.tensor(rv), w, b, False, 0.1, 1e-3)

    check(fn, inputs, **_opts(shape, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_functional_updates_buffers(momentum, dtype, device):
    e_rm, e_rv = ember.zeros(3, dtype=E_DT[dtype], device=device), ember.ones(3, dtype=E_DT[dtype], device=device)
    t_rm, t_rv = torch.zeros(3, dtype=T_DT[dtype]), torch.ones(3, dtype=T_DT[dtype])
    for step in range(3):
        x = _r((4, 3, 5), dtype, step, loc=step)
        EF.batch_norm(ember.tensor(x, device=device), e_rm, e_rv, training=True, momentum=momentum)
        TF.batch_norm(torch.tensor(x), t_rm, t_rv, training=True, momentum=momentum)
        _close(e_rm, t_rm, dtype, "running_mean")
        _close(e_rv, t_rv, dtype, "running_var")


def test_batch_norm_noncontiguous_input(device):
    x = _r((5, 4, 6))
    xe, xt = ember.tensor(x, device=device).transpose(0, 2), torch.tensor(x).transpose(0, 2)  # (6, 4, 5)
    w = _pos((4,), seed=1)
    check(lambda a, w: EF.batch_norm(a.transpose(0, 2), None, None, w, None, True),
          [x, w], lambda a, w: TF.batch_norm(a.transpose(0, 2), None, None, w, None, True), gradcheck=False)
    xe, xt = ember.tensor(x, device=device)[:, ::2], torch.tensor(x)[:, ::2]
    assert_same(EF.batch_norm(xe, None, None, training=True), TF.batch_norm(xt, None, None, training=True))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 3), (2, 2, 3, 2, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_functional(shape, affine, dtype):
    c = shape[1]
    inputs = [_r(shape, dtype, loc=-1.0)] + ([_pos((c,), dtype, 1), _r((c,), dtype, 2)] if affine else [])

    def fn(x, w=None, b=None):
        lib = EF if isinstance(x, ember.Tensor) else TF
        return lib.instance_norm(x, weight=w, bias=b)

    check(fn, inputs, **_opts(shape, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_instance_norm_functional_running_stats(dtype, device):
    e_rm, e_rv = ember.zeros(4, dtype=E_DT[dtype], device=device), ember.ones(4, dtype=E_DT[dtype], device=device)
    t_rm, t_rv = torch.zeros(4, dtype=T_DT[dtype]), torch.ones(4, dtype=T_DT[dtype])
    for step in range(3):
        x = _r((3, 4, 6), dtype, step, loc=step)
        ye = EF.instance_norm(ember.tensor(x, device=device), e_rm, e_rv, momentum=0.2)
        yt = TF.instance_norm(torch.tensor(x), t_rm, t_rv, momentum=0.2)
        assert_same(ye, yt)
        _close(e_rm, t_rm, dtype, "running_mean")
        _close(e_rv, t_rv, dtype, "running_var")
    x = _r((3, 4, 6), dtype, 9)
    assert_same(EF.instance_norm(ember.tensor(x, device=device), e_rm, e_rv, use_input_stats=False),
                TF.instance_norm(torch.tensor(x), t_rm, t_rv, use_input_stats=False))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,norm", [((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 4), (3, 4)),
                                        ((2, 2, 3, 4), (2, 3, 4)), ((3, 1), 1)])
@pytest.mark.parametrize("affine", ["wb", "w", "none"])
def test_layer_norm_functional(shape, norm, affine, dtype):
    ns = (norm,) if isinstance(norm, int) else norm
    inputs = [_r(shape, dtype, loc=3.0)]
    if affine != "none":
        inputs.append(_pos(ns, dtype, 1))
    if affine == "wb":
        inputs.append(_r(ns, dtype, 2))

    def fn(x, w=None, b=None):
        lib = EF if isinstance(x, ember.Tensor) else TF
        return lib.layer_norm(x, ns if not isinstance(norm, int) else [norm], w, b, 1e-5)

    check(fn, inputs, **_opts(shape, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,groups", [((2, 6, 5), 1), ((2, 6, 5), 6), ((2, 6, 5), 3),
                                          ((3, 4), 2), ((2, 4, 3, 2), 2), ((1, 4, 2, 2, 2), 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_functional(shape, groups, affine, dtype):
    c = shape[1]
    inputs = [_r(shape, dtype, loc=1.0)] + ([_pos((c,), dtype, 1), _r((c,), dtype, 2)] if affine else [])

    def fn(x, w=None, b=None):
        lib = EF if isinstance(x, ember.Tensor) else TF
        return lib.group_norm(x, groups, w, b, 1e-5)

    check(fn, inputs, **_opts(shape, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,size,kw", [((2, 5, 4), 2, {}), ((2, 6, 3, 3), 3, dict(alpha=0.5, beta=0.6, k=2.0)),
                                           ((1, 4, 2, 2, 3), 5, dict(alpha=1e-2)), ((2, 3, 4), 1, {}),
                                           ((2, 3, 4), 8, dict(alpha=0.3))])
def test_local_response_norm_functional(shape, size, kw, dtype):
    def fn(x):
        lib = EF if isinstance(x, ember.Tensor) else TF
        return lib.local_response_norm(x, size, **kw)

    check(fn, [_r(shape, dtype)], **_opts(shape, dtype))


def test_gradcheck_and_gradgradcheck(device):
    """float64 finite differences on every functional, including weights and double backward."""
    x4 = ember.tensor(_r((3, 2, 1, 2), loc=1.0), requires_grad=True, device=device)
    w2 = ember.tensor(_pos((2,), seed=1), requires_grad=True, device=device)
    b2 = ember.tensor(_r((2,), seed=2), requires_grad=True, device=device)
    fns = [
        (lambda x, w, b: EF.batch_norm(x, None, None, w, b, True), (x4, w2, b2)),
        (lambda x, w, b: EF.instance_norm(x, weight=w, bias=b), (x4, w2, b2)),
        (lambda x, w, b: EF.group_norm(x, 1, w, b), (x4, w2, b2)),
        (lambda x, w, b: EF.layer_norm(x, (1, 2), w.view(1, 2), b.view(1, 2)), (x4, w2, b2)),
        (lambda x: EF.local_response_norm(x, 2, alpha=0.5), (x4,)),
        (lambda x, w, b: EF.batch_norm(x, ember.zeros(2, dtype=ember.float64, device=device),
                                       ember.ones(2, dtype=ember.float64, device=device), w, b, False), (x4, w2, b2)),
    ]
    for i, (fn, inputs) in enumerate(fns):
        assert ember.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)
        if i in (0, 2, 3):  # the others' double backward is compared with torch's in check()
            assert ember.autograd.gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)


def test_double_backward_module_matches_torch(device):
    """Gradient penalty through BatchNorm2d: grad of |dL/dx|^2 w.r.t. the weight."""
    x = _r((3, 2, 3, 3), loc=0.5)
    em, tm = ember.nn.BatchNorm2d(2).double().to(device), torch.nn.BatchNorm2d(2).double()
    with torch.no_grad():
        tm.weight.copy_(torch.tensor([0.7, 1.3]))
    em.load_state_dict({k: ember.tensor(v.numpy(), device=device) for k, v in tm.state_dict().items()})
    outs = []
    for lib, m in ((ember, em), (torch, tm)):
        xx = lib_tensor(lib, x, device, requires_grad=True)
        y = m(xx)
        (gx,) = lib.autograd.grad((y * y * y).sum(), xx, create_graph=True)
        (gx * gx).sum().backward()
        outs.append((gx, m.weight.grad, xx.grad))
    for e, t in zip(*outs):
        assert_same(e, t)


# ---------------------------------------------------------------- modules

def _copy_params(e_m, t_m):
    """Copy torch's parameters and buffers into ember's module."""
    sd = {k: ember.tensor(v.detach().numpy()) for k, v in t_m.state_dict().items()}
    e_m.load_state_dict(sd)


def _train_compare(e_m, t_m, shapes, dtype, device, steps=3, loc=1.0):
    """Train-mode steps (ember on ``device``): outputs, input/parameter grads, buffers; then eval output."""
    t_m = t_m.to(T_DT[dtype])
    e_m = e_m.to(E_DT[dtype]).to(device)
    with torch.no_grad():
        for i, p in enumerate(t_m.parameters()):
            p.copy_(torch.from_numpy(_pos(p.shape, dtype, 10 + i)))
    _copy_params(e_m, t_m)
    for step in range(steps):
        x = _r(shapes[step % len(shapes)], dtype, step, loc=loc * step)
        xe, xt = ember.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
        ye, yt = e_m(xe), t_m(xt)
        assert_same(ye, yt, f"step {step} output")
        g = _r(yt.shape, dtype, 100 + step)
        ye.backward(ember.tensor(g, device=device))
        yt.backward(torch.tensor(g))
        _close(xe.grad, xt.grad, dtype, f"step {step} input grad", scale=4)
        for (n, pe), (_, pt) in zip(e_m.named_parameters(), t_m.named_parameters()):
            _close(pe.grad, pt.grad, dtype, f"step {step} grad of {n}", scale=10)
        for (n, be), (_, bt) in zip(e_m.named_buffers(), t_m.named_buffers()):
            assert be.dtype.name == str(bt.dtype).replace("torch.", ""), n
            _close(be, bt, dtype, f"step {step} buffer {n}")
    e_m.eval()
    t_m.eval()
    x = _r(shapes[0], dtype, 50)
    assert_same(e_m(ember.tensor(x, device=device)), t_m(torch.tensor(x)), "eval output")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls,shapes", [("BatchNorm1d", [(6, 3)]), ("BatchNorm1d", [(4, 3, 5), (2, 3, 7)]),
                                        ("BatchNorm2d", [(2, 3, 4, 5)]), ("BatchNorm3d", [(2, 3, 2, 3, 2)])])
@pytest.mark.parametrize("momentum,affine,track", [(0.1, True, True), (None, True, True),
                                                   (0.3, False, True), (0.1, True, False)])
def test_batch_norm_modules(cls, shapes, momentum, affine, track, dtype, device):
    kw = dict(momentum=momentum, affine=affine, track_running_stats=track)
    _train_compare(getattr(ember.nn, cls)(3, **kw), getattr(torch.nn, cls)(3, **kw), shapes, dtype, device)


def test_batch_norm_no_bias_and_eps(device):
    kw = dict(eps=1e-3, bias=False)
    _train_compare(ember.nn.BatchNorm2d(3, **kw), torch.nn.BatchNorm2d(3, **kw), [(2, 3, 2, 2)], np.float64, device)


def test_batch_norm_batch_of_one_with_length(device):
    _train_compare(ember.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3), [(1, 3, 4)], np.float64, device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls,shapes", [("InstanceNorm1d", [(2, 3, 5)]), ("InstanceNorm1d", [(3, 5)]),
                                        ("InstanceNorm2d", [(2, 3, 4, 3)]), ("InstanceNorm2d", [(3, 2, 4)]),
                                        ("InstanceNorm3d", [(2, 3, 2, 2, 3)])])
@pytest.mark.parametrize("affine,track", [(False, False), (True, False), (True, True), (False, True)])
def test_instance_norm_modules(cls, shapes, affine, track, dtype, device):
    kw = dict(affine=affine, track_running_stats=track)
    _train_compare(getattr(ember.nn, cls)(3, **kw), getattr(torch.nn, cls)(3, **kw), shapes, dtype, device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm,shape", [(5, (2, 3, 5)), ((3, 5), (2, 3, 5)), ((2, 3, 4), (2, 2, 3, 4)),
                                        ([4], (4,))])
@pytest.mark.parametrize("kw", [{}, dict(bias=False), dict(elementwise_affine=False), dict(eps=1e-2)])
def test_layer_norm_module(norm, shape, kw, dtype, device):
    _train_compare(ember.nn.LayerNorm(norm, **kw), torch.nn.LayerNorm(norm, **kw), [shape], dtype, device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("groups,shape", [(1, (2, 6, 4)), (6, (2, 6, 3, 2)), (2, (3, 6)), (3, (2, 6, 2, 2, 2))])
@pytest.mark.parametrize("kw", [{}, dict(affine=False), dict(bias=False, eps=1e-3)])
def test_group_norm_module(groups, shape, kw, dtype, device):
    _train_compare(ember.nn.GroupNorm(groups, 6, **kw), torch.nn.GroupNorm(groups, 6, **kw), [shape], dtype,
                   device)


@pytest.mark.parametrize("args", [(2,), (3, 1e-3, 0.5, 2.0)])
def test_local_response_norm_module(args, device):
    _train_compare(ember.nn.LocalResponseNorm(*args), torch.nn.LocalResponseNorm(*args), [(2, 5, 3, 3)],
                   np.float64, device)


@pytest.mark.parametrize("name,shape", [("BatchNorm2d", (4, 3, 2, 2)), ("InstanceNorm1d", (4, 3, 5))])
def test_a_training_step_updates_the_running_statistics_in_place_as_torch(name, shape, device):
    kw = {} if name.startswith("Batch") else {"track_running_stats": True}
    t_m, e_m = getattr(torch.nn, name)(3, momentum=0.3, **kw), getattr(ember.nn, name)(3, momentum=0.3, **kw).to(device)
    x = _r(shape, seed=3, loc=2.0).astype(np.float32)
    versions = [t._version for t in (e_m.running_mean, e_m.running_var)]
    e_m(ember.tensor(x, device=device))
    t_m(torch.tensor(x))
    assert [t._version for t in (e_m.running_mean, e_m.running_var)] == [v + 1 for v in versions]
    for stat in ("running_mean", "running_var"):
        np.testing.assert_allclose(as_numpy(getattr(e_m, stat)), getattr(t_m, stat).numpy(), rtol=1e-6, atol=1e-7)


def test_momentum_none_is_cumulative_average(device):
    m = ember.nn.BatchNorm1d(2, momentum=None).double().to(device)
    xs = [_r((5, 2), seed=s, loc=s) for s in range(4)]
    for x in xs:
        m(ember.tensor(x, device=device))
    assert m.num_batches_tracked.item() == 4
    expected = np.mean([x.mean(0) for x in xs], axis=0)
    np.testing.assert_allclose(as_numpy(m.running_mean), expected, rtol=1e-12)
    np.testing.assert_allclose(as_numpy(m.running_var), np.mean([x.var(0, ddof=1) for x in xs], axis=0),
                               rtol=1e-12)


# ------------------------------------------------------- parameters, state, repr

MODULES = [
    ("BatchNorm1d", (4,), {}), ("BatchNorm2d", (4,), dict(affine=False)),
    ("BatchNorm3d", (4,), dict(track_running_stats=False)), ("BatchNorm2d", (4,), dict(momentum=None, eps=1e-3)),
    ("BatchNorm1d", (4,), dict(bias=False)),
    ("InstanceNorm1d", (4,), {}), ("InstanceNorm2d", (4,), dict(affine=True, track_running_stats=True)),
    ("InstanceNorm3d", (4,), dict(affine=True)), ("LayerNorm", (4,), {}), ("LayerNorm", ((2, 3),), dict(bias=False)),
    ("LayerNorm", ([3, 4],), dict(elementwise_affine=False, eps=1e-6)), ("GroupNorm", (2, 4), {}),
    ("GroupNorm", (4, 4), dict(affine=False)), ("GroupNorm", (1, 4), dict(bias=False)),
    ("LocalResponseNorm", (3,), {}), ("LocalResponseNorm", (2, 1e-3, 0.5, 2), {}),
]


@pytest.mark.parametrize("name,args,kw", MODULES)
def test_repr_parameters_buffers_state_dict(name, args, kw):
    e, t = getattr(ember.nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    for (ne, pe), (nt, pt) in zip(e.named_parameters(), t.named_parameters()):
        assert ne == nt
        assert_same(pe, pt, ne)
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    for (n, be), (_, bt) in zip(e.named_buffers(), t.named_buffers()):
        assert tuple(be.shape) == tuple(bt.shape) and be.dtype.name == str(bt.dtype)[6:], n
        np.testing.assert_array_equal(be.numpy(), bt.numpy())
    for attr in ("num_features", "eps", "momentum", "affine", "track_running_stats", "normalized_shape",
                 "elementwise_affine", "num_groups", "num_channels", "size", "alpha", "beta", "k"):
        if hasattr(t, attr):
            assert getattr(e, attr) == getattr(t, attr), attr


def test_torch_state_dict_loads_and_gives_torch_outputs(device):
    t = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 1) if False else torch.nn.Identity(),
                            torch.nn.BatchNorm2d(3), torch.nn.GroupNorm(3, 3), torch.nn.LayerNorm(4))
    e = ember.nn.Sequential(ember.nn.Identity(), ember.nn.BatchNorm2d(3), ember.nn.GroupNorm(3, 3),
                            ember.nn.LayerNorm(4)).to(device)
    for _ in range(2):
        t(torch.randn(4, 3, 4, 4))
    with torch.no_grad():
        for p in t.parameters():
            p.uniform_(0.5, 1.5)
    sd = t.state_dict()
    e.load_state_dict({k: ember.tensor(v.numpy(), device=device) for k, v in sd.items()})
    assert e[1].num_batches_tracked.item() == 2
    x = _r((2, 3, 4, 4), np.float32)
    for mode in ("train", "eval"):
        getattr(e, mode)()
        getattr(t, mode)()
        assert_same(e(ember.tensor(x, device=device)), t(torch.tensor(x)), mode)


def test_old_checkpoint_without_num_batches_tracked():
    m = ember.nn.BatchNorm1d(3)
    m.num_batches_tracked.fill_(5)
    sd = m.state_dict()
    del sd["num_batches_tracked"]
    sd._metadata[""]["version"] = 1  # as saved before the buffer existed
    fresh = ember.nn.BatchNorm1d(3)
    fresh.load_state_dict(sd)  # strict: the missing key is filled in
    assert fresh.num_batches_tracked.item() == 0
    sd2 = m.state_dict()
    del sd2["num_batches_tracked"]  # version 2 metadata: a real missing key
    with pytest.raises(RuntimeError, match="num_batches_tracked"):
        ember.nn.BatchNorm1d(3).load_state_dict(sd2)


def test_reset_running_stats_and_parameters(device):
    m = ember.nn.BatchNorm1d(3).to(device)
    m(ember.randn(4, 3, device=device) * 3 + 1)
    with ember.no_grad():
        m.weight.fill_(2.0)
    m.reset_running_stats()
    assert m.running_mean.tolist() == [0, 0, 0] and m.running_var.tolist() == [1, 1, 1]
    assert m.num_batches_tracked.item() == 0 and m.weight.tolist() == [2, 2, 2]
    m.reset_parameters()
    assert m.weight.tolist() == [1, 1, 1] and m.bias.tolist() == [0, 0, 0]


def test_track_running_stats_false_uses_batch_stats_in_eval(device):
    e = ember.nn.BatchNorm1d(3, track_running_stats=False).double().eval().to(device)
    t = torch.nn.BatchNorm1d(3, track_running_stats=False).double().eval()
    assert e.running_mean is None and e.num_batches_tracked is None
    x = _r((5, 3))
    assert_same(e(ember.tensor(x, device=device)), t(torch.tensor(x)))


def test_module_dtype_and_device_args(device):
    m = ember.nn.BatchNorm2d(3, dtype=ember.float64, device=device)
    assert m.weight.dtype == ember.float64 and m.running_var.dtype == ember.float64
    assert m.num_batches_tracked.dtype == ember.int64
    assert {t.device for t in (m.weight, m.bias, m.running_mean, m.num_batches_tracked)} == {placed(device)}
    ln = ember.nn.LayerNorm(3, dtype=ember.float64, device=device)
    assert ln.bias.dtype == ember.float64 and ln.bias.device == placed(device)


def test_instance_norm_warns_on_channel_mismatch(device):
    x = _r((2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        ye = ember.nn.InstanceNorm1d(3).to(device)(ember.tensor(x, device=device))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = torch.nn.InstanceNorm1d(3)(torch.tensor(x))
    assert_same(ye, yt)


# ---------------------------------------------------------------- errors

ERRORS = [
    ("bn1d 4D", lambda L, F: L.nn.BatchNorm1d(3)(L.randn(2, 3, 4, 4))),
    ("bn2d 3D", lambda L, F: L.nn.BatchNorm2d(3)(L.randn(2, 3, 4))),
    ("bn3d 4D", lambda L, F: L.nn.BatchNorm3d(3)(L.randn(2, 3, 4, 4))),
    ("one value", lambda L, F: L.nn.BatchNorm1d(3)(L.randn(1, 3))),
    ("one value 3d", lambda L, F: L.nn.BatchNorm2d(3)(L.randn(1, 3, 1, 1))),
    ("channels", lambda L, F: L.nn.BatchNorm1d(3)(L.randn(4, 4))),
    ("eps 0", lambda L, F: F.batch_norm(L.randn(4, 3), None, None, training=True, eps=0.0)),
    ("eps < 0", lambda L, F: F.batch_norm(L.randn(4, 3), L.zeros(3), L.ones(3), eps=-1.0)),
    ("eval no stats", lambda L, F: F.batch_norm(L.randn(4, 3), None, None)),
    ("weight size", lambda L, F: F.batch_norm(L.randn(4, 3), None, None, L.ones(4), training=True)),
    ("momentum None", lambda L, F: F.batch_norm(L.randn(4, 3), L.zeros(3), L.ones(3), training=True,
                                                momentum=None)),
    ("in 1 spatial", lambda L, F: F.instance_norm(L.randn(2, 3, 1))),
    ("in 2D", lambda L, F: F.instance_norm(L.randn(3, 5))),
    ("in no stats", lambda L, F: F.instance_norm(L.randn(2, 3, 4), use_input_stats=False)),
    ("in1d dims", lambda L, F: L.nn.InstanceNorm1d(3)(L.randn(3))),
    ("in2d dims", lambda L, F: L.nn.InstanceNorm2d(3)(L.randn(2, 3, 4, 4, 4))),
    ("in affine channels", lambda L, F: L.nn.InstanceNorm1d(3, affine=True)(L.randn(2, 4, 5))),
    ("ln shape", lambda L, F: F.layer_norm(L.randn(4, 3, 5), (4,))),
    ("ln empty shape", lambda L, F: F.layer_norm(L.randn(4, 3), ())),
    ("ln weight", lambda L, F: F.layer_norm(L.randn(4, 3, 5), (5,), L.ones(4))),
    ("ln module", lambda L, F: L.nn.LayerNorm((3, 4))(L.randn(2, 4, 3))),
    ("gn divisible", lambda L, F: F.group_norm(L.randn(4, 3, 5), 2)),
    ("gn weight", lambda L, F: F.group_norm(L.randn(4, 4, 5), 2, L.ones(3))),
    ("gn 1D", lambda L, F: F.group_norm(L.randn(4), 1)),
    ("gn one value", lambda L, F: F.group_norm(L.randn(1, 3, 1), 3)),
    ("gn module", lambda L, F: L.nn.GroupNorm(2, 3)),
    ("lrn 2D", lambda L, F: F.local_response_norm(L.randn(2, 3), 2)),
    ("lrn size 0", lambda L, F: F.local_response_norm(L.randn(2, 3, 4), 0)),
]


@pytest.mark.parametrize("case,fn", ERRORS, ids=[c for c, _ in ERRORS])
def test_errors_match_torch(case, fn):
    same_outcome(lambda L: fn(L, L.nn.functional), raises=True, exact_type=True, quiet=True)


def test_error_messages(device):
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        ember.nn.BatchNorm1d(3).to(device)(ember.randn(2, 3, 4, 4, device=device))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training, got input size"):
        ember.nn.BatchNorm1d(3).to(device)(ember.randn(1, 3, device=device))
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], "
                                           r"but got input of size\[4, 3, 5\]"):
        EF.layer_norm(ember.randn(4, 3, 5, device=device), (4,))
    with pytest.raises(ValueError, match=r"num_channels \(3\) must be divisible by num_groups \(2\)"):
        ember.nn.GroupNorm(2, 3)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        EF.batch_norm(ember.randn(4, 3, device=device), ember.zeros(4, device=device), ember.ones(4, device=device),
                      training=True)


def test_empty_batch_and_unbatched_shapes(device):
    assert tuple(ember.nn.BatchNorm1d(3).eval().to(device)(ember.randn(0, 3, device=device)).shape) == (0, 3)
    assert tuple(EF.local_response_norm(ember.randn(0, 3, 4, device=device), 2).shape) == (0, 3, 4)
    assert tuple(EF.layer_norm(ember.randn(0, 5, device=device), (5,)).shape) == (0, 5)


# ---------------------------------------------------------------- backends

@pytest.mark.parametrize("fn", [
    lambda L, F, x: F.batch_norm(x, None, None, None, None, True),
    lambda L, F, x: F.layer_norm(x, (4, 5)),
    lambda L, F, x: F.group_norm(x, 3),
    lambda L, F, x: F.instance_norm(x),
], ids=["batch_norm", "layer_norm", "group_norm", "instance_norm"])
def test_functionals_on_device(fn, device):
    x = _r((2, 6, 4, 5), loc=0.5)
    check(lambda a: fn(ember, EF, a), [x], lambda a: fn(torch, TF, a), device=device, gradcheck=False)


def test_batch_norm_module_on_device(device):
    t = torch.nn.BatchNorm2d(3).double()
    e = ember.nn.BatchNorm2d(3).double().to(device)
    x = _r((4, 3, 2, 2), loc=2.0)
    for _ in range(2):
        ye, yt = e(ember.tensor(x, device=device)), t(torch.tensor(x))
        assert_same(ye, yt)
    assert_same(e.running_var, t.running_var)
    assert e.running_mean.device.type == device
    e.eval()
    t.eval()
    assert_same(e(ember.tensor(x, device=device)), t(torch.tensor(x)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_generic_kernels_match_cython(dtype):
    """The xp kernels (what CuPy runs) and the CPU Cython kernels agree."""
    import numpy
    from ember.backend import REGISTRY
    from ember.plugins.normalization import _norm

    x, g = _r((3, 4, 50), dtype, loc=100.0), _r((3, 4, 50), dtype, 1)
    w, b = _pos((4,), dtype, 2), _r((4,), dtype, 3)
    fwd = REGISTRY.generic("normalization.batch_norm_forward", numpy)
    bwd = REGISTRY.generic("normalization.batch_norm_backward", numpy)
    kw = tol(dtype)
    for a, c in zip(fwd(x, w, b, 1e-5), _norm.batch_norm_forward(x, w, b, 1e-5)):
        np.testing.assert_allclose(a, c, **kw)
    _, mean, var = fwd(x, w, b, 1e-5)
    for a, c in zip(bwd(g, x, mean, var, 1e-5, w, True), _norm.batch_norm_backward(g, x, mean, var, 1e-5, w, True)):
        np.testing.assert_allclose(a, c, rtol=kw["rtol"] * 10, atol=kw["atol"] * 10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,groups", [((3, 4, 50), 2), ((40, 64, 1), 1), ((2, 6, 1), 6),
                                          ((2, 8, 5000), 4)])
def test_generic_group_kernels_match_cython(shape, groups, dtype):
    """Group/layer norm: the xp kernels and the Cython ones agree (row and grouped layouts,
    one- and multi-threaded sizes)."""
    import numpy
    from ember.backend import REGISTRY
    from ember.plugins.normalization import _norm

    x, g = _r(shape, dtype, loc=10.0), _r(shape, dtype, 1)
    w, b = _pos(shape[1:2], dtype, 2), _r(shape[1:2], dtype, 3)
    fwd = REGISTRY.generic("normalization.group_norm_forward", numpy)
    bwd = REGISTRY.generic("normalization.group_norm_backward", numpy)
    kw = tol(dtype)
    for a, c in zip(fwd(x, groups, w, b, 1e-5), _norm.group_norm_forward(x, groups, w, b, 1e-5)):
        np.testing.assert_allclose(a, c, rtol=kw["rtol"] * 10, atol=kw["atol"] * 10)
    _, mean, var = fwd(x, groups, w, b, 1e-5)
    for a, c in zip(bwd(g, x, mean, var, 1e-5, groups, w, True),
                    _norm.group_norm_backward(g, x, mean, var, 1e-5, groups, w, True)):
        np.testing.assert_allclose(a, c, rtol=kw["rtol"] * 100, atol=kw["atol"] * 100)
    with pytest.raises(ValueError):
        _norm.group_norm_forward(x, shape[1] + 1, w, b, 1e-5)


def test_cython_kernel_rejects_bad_shapes():
    from ember.plugins.normalization import _norm

    with pytest.raises(ValueError):
        _norm.batch_norm_forward(np.zeros((2, 3)), None, None, 1e-5)
    with pytest.raises(ValueError):
        _norm.batch_norm_forward(np.zeros((2, 3, 4)), np.ones(4), None, 1e-5)
    with pytest.raises(TypeError):
        _norm.batch_norm_forward(np.zeros((2, 3, 4), dtype=np.int64), None, None, 1e-5)
    with pytest.raises(ValueError):
        _norm.batch_norm_backward(np.zeros((2, 3, 5)), np.zeros((2, 3, 4)), np.zeros(3), np.ones(3), 1e-5, None)


@pytest.mark.parametrize("make,shape,launches", [
    # statistics (1 reduction) + normalizing forward; gradient sums, input gradient and
    # parameter gradients backward (batch norm's one kernel writes both, and its
    # training adds the running statistics' update and the batch count)
    (lambda nn: nn.LayerNorm(6), (4, 5, 6), 5),
    (lambda nn: nn.GroupNorm(2, 4), (3, 4, 5), 5),
    (lambda nn: nn.RMSNorm(6), (4, 5, 6), 5),
    (lambda nn: nn.BatchNorm1d(4), (3, 4, 5), 6)])
def test_launches_of_a_forward_and_backward_on_a_gpu(make, shape, launches, device):
    """One reduction launch yields all of a statistic's values (CuPy's reduction
    kernels write several outputs), so a norm's forward and backward take a handful
    of launches on a GPU, not one per sum."""
    from ember.backend import REGISTRY
    from tests import emulated_cupy

    if device != "cuda" or REGISTRY.backends["cuda"].xp is not emulated_cupy.XP:
        pytest.skip("counts the emulated GPU's launches")
    layer = make(ember.nn).to(device)
    x = ember.randn(*shape, device=device, requires_grad=True)
    g = ember.randn(*shape, device=device)
    layer(x).backward(g)  # the first call does more
    x.grad = None
    for p in layer.parameters():
        p.grad = None
    with emulated_cupy.counting_launches() as counted:
        layer(x).backward(g)
    assert len(counted) == launches
