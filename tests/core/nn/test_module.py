"""ember.nn.Module and Parameter against torch.nn.Module: repr, state dicts, hooks,
conversions, traversal, copying."""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import ember
from tests.oracle import as_numpy, same_outcome, torch


def build(lib):
    """The same model in torch (``lib=torch``) or ember, using every container."""
    nn = lib.nn

    class Affine(nn.Module):
        def __init__(self, i, o, bias=True):
            super().__init__()
            self.i, self.o = i, o
            self.weight = nn.Parameter(lib.arange(float(o * i)).reshape(o, i) / (o * i) - 0.5)
            if bias:
                self.bias = nn.Parameter(lib.arange(float(o)) / 10)
            else:
                self.register_parameter("bias", None)
            self.register_buffer("count", lib.zeros(1))
            self.register_buffer("scratch", lib.zeros(1), persistent=False)

        def extra_repr(self):
            return f"in={self.i}, out={self.o}"

        def forward(self, x):
            y = x @ self.weight.t()
            return y + self.bias if self.bias is not None else y

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.seq = nn.Sequential(Affine(3, 4), nn.Sequential(OrderedDict(
                [("a", Affine(4, 4, bias=False)), ("b", Affine(4, 4))])))
            self.blocks = nn.ModuleList([Affine(4, 4) for _ in range(3)] + [Affine(4, 2)])
            self.heads = nn.ModuleDict({"x": Affine(2, 2), "y": nn.ModuleList()})
            self.plist = nn.ParameterList([nn.Parameter(lib.ones(2, 3)), nn.Parameter(lib.ones(4))])
            self.pdict = nn.ParameterDict({"b": nn.Parameter(lib.ones(2)), "a": nn.Parameter(lib.ones(3, 1))})
            self.empty = nn.Sequential()
            self.nothing = None

        def forward(self, x):
            x = self.seq(x)
            for block in self.blocks:
                x = block(x)
            return self.heads["x"](x) * self.pdict["b"]

    return Net()


def test_repr_identical_to_torch():
    assert repr(build(ember)) == repr(build(torch))
    assert str(build(ember)) == str(build(torch))


def test_state_dict_keys_and_metadata_identical_to_torch():
    e, t = build(ember).state_dict(), build(torch).state_dict()
    assert isinstance(e, OrderedDict)
    assert list(e.keys()) == list(t.keys())
    assert e._metadata == t._metadata
    for k in t:
        np.testing.assert_array_equal(as_numpy(e[k]), as_numpy(t[k]))
        assert not e[k].requires_grad and not isinstance(e[k], ember.nn.Parameter)


def test_state_dict_prefix_keep_vars_destination():
    m = build(ember)
    sd = m.state_dict(prefix="model.", keep_vars=True)
    assert all(k.startswith("model.") for k in sd)
    assert sd["model.seq.0.weight"] is m.seq[0].weight
    assert "model.seq.0.scratch" not in sd and "model.seq.0.count" in sd
    dest = OrderedDict()
    assert m.state_dict(destination=dest) is dest and "seq.0.weight" in dest
    t = build(torch)
    assert list(m.state_dict(prefix="p.")._metadata) == list(t.state_dict(prefix="p.")._metadata)


def test_outputs_and_gradients_match_torch():
    e, t = build(ember), build(torch)
    x = np.linspace(-1, 1, 15).reshape(5, 3).astype(np.float32)
    ye, yt = e(ember.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(as_numpy(ye), as_numpy(yt), rtol=1e-5, atol=1e-6)
    ye.sum().backward()
    yt.sum().backward()
    for (ne, pe), (nt, pt) in zip(e.named_parameters(), t.named_parameters()):
        assert ne == nt
        if pt.grad is None:
            assert pe.grad is None
        else:
            np.testing.assert_allclose(as_numpy(pe.grad), as_numpy(pt.grad), rtol=1e-5, atol=1e-6)


def test_named_parameters_buffers_modules_match_torch():
    e, t = build(ember), build(torch)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert [n for n, _ in e.named_parameters(prefix="x", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="x", recurse=False)]
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.buffers())) == len(list(t.buffers()))
    assert len(list(e.modules())) == len(list(t.modules()))
    assert len(list(e.children())) == len(list(t.children()))


def test_shared_modules_and_parameters_listed_once():
    for lib in (ember, torch):
        lin = build(lib).seq[0]
        net = lib.nn.Sequential(lin, lin)
        assert [n for n, _ in net.named_modules()] == ["", "0"]
        assert [n for n, _ in net.named_modules(remove_duplicate=False)] == ["", "0", "1"]
        assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias"]
        assert list(net.state_dict()) == ["0.weight", "0.bias", "0.count", "1.weight", "1.bias", "1.count"]


def _sd(lib, model):
    return OrderedDict((k, lib.tensor(as_numpy(v))) for k, v in model.state_dict().items())


def test_load_state_dict_copies_values_into_same_parameters():
    src, dst = build(ember), build(ember)
    for p in src.parameters():
        with ember.no_grad():
            p.mul_(3)
    weight = dst.seq[0].weight
    result = dst.load_state_dict(src.state_dict())
    assert repr(result) == "<All keys matched successfully>"
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert dst.seq[0].weight is weight
    np.testing.assert_array_equal(weight.detach().numpy(), src.seq[0].weight.detach().numpy())


def test_load_state_dict_strict_error_text_matches_torch():
    e, t = build(ember), build(torch)
    sde, sdt = _sd(ember, e), _sd(torch, t)
    for sd, lib in ((sde, ember), (sdt, torch)):
        del sd["seq.0.bias"]
        del sd["blocks.3.count"]
        sd["extra.weight"] = lib.zeros(1)
        sd["seq.0.junk"] = lib.zeros(1)
        sd["blocks.1.weight"] = lib.zeros(3, 3)
    ours = same_outcome(lambda: e.load_state_dict(sde), (), lambda: t.load_state_dict(sdt), raises=RuntimeError,
                        message=True)[0].message
    assert ours.startswith("Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: "
                           '"seq.0.bias", "blocks.3.count". \n\tUnexpected key(s) in state_dict: ')
    assert "size mismatch for blocks.1.weight: copying a param with shape ember.Size([3, 3]) " in ours


def test_load_state_dict_non_strict_returns_incompatible_keys():
    e, t = build(ember), build(torch)
    sde, sdt = _sd(ember, e), _sd(torch, t)
    for sd, lib in ((sde, ember), (sdt, torch)):
        del sd["heads.x.weight"]
        sd["foo"] = lib.zeros(1)
    re, rt = e.load_state_dict(sde, strict=False), t.load_state_dict(sdt, strict=False)
    assert re.missing_keys == rt.missing_keys == ["heads.x.weight"]
    assert re.unexpected_keys == rt.unexpected_keys == ["foo"]
    assert repr(re) == repr(rt).replace("_IncompatibleKeys", "IncompatibleKeys") or repr(re) == repr(rt)
    missing, unexpected = re
    assert missing == ["heads.x.weight"]


def test_size_mismatch_raises_even_when_not_strict():
    e, t = build(ember), build(torch)
    sde, sdt = _sd(ember, e), _sd(torch, t)
    sde["seq.0.weight"], sdt["seq.0.weight"] = ember.zeros(2), torch.zeros(2)
    same_outcome(lambda: e.load_state_dict(sde, strict=False), (), lambda: t.load_state_dict(sdt, strict=False),
                 raises=RuntimeError, message=True)


def test_load_state_dict_rejects_non_mapping_and_non_tensor():
    m = build(ember)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        m.load_state_dict([1, 2])
    sd = m.state_dict()
    sd["seq.0.weight"] = [1.0]
    with pytest.raises(RuntimeError, match='While copying the parameter named "seq.0.weight"'):
        m.load_state_dict(sd)


def test_load_state_dict_assign_replaces_parameters():
    m, src = build(ember), build(ember)
    sd = src.state_dict()
    m.load_state_dict(sd, assign=True)
    assert isinstance(m.seq[0].weight, ember.nn.Parameter) and m.seq[0].weight.requires_grad
    assert m.seq[0].count is sd["seq.0.count"]


def test_load_state_dict_from_torch_into_ember_gives_torch_outputs():
    t = build(torch)
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.randn(p.shape))
    e = build(ember)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(as_numpy(e(ember.tensor(x))), as_numpy(t(torch.tensor(x))), rtol=1e-5, atol=1e-5)


def test_load_state_dict_version_metadata_reaches_layers():
    seen = {}

    class Versioned(ember.nn.Module):
        _version = 2

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
            seen[prefix] = local_metadata.get("version")
            super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)

    net = ember.nn.Sequential(Versioned())
    sd = net.state_dict()
    assert sd._metadata == OrderedDict([("", {"version": 1}), ("0", {"version": 2})])
    net.load_state_dict(sd)
    assert seen == {"0.": 2}


def test_forward_hooks():
    for lib in (ember, torch):
        m = build(lib).seq[0]
        calls = []
        h1 = m.register_forward_pre_hook(lambda mod, inp: (inp[0] * 2,))
        h2 = m.register_forward_hook(lambda mod, inp, out: calls.append(tuple(out.shape)) or out + 1)
        base = m.weight.sum(1) * 2 + m.bias + 1
        out = m(lib.ones(1, 3))
        np.testing.assert_allclose(as_numpy(out)[0], as_numpy(base), rtol=1e-6)
        assert calls == [(1, 4)]
        h1.remove()
        h2.remove()
        out = m(lib.ones(1, 3))
        np.testing.assert_allclose(as_numpy(out)[0], as_numpy(m.weight.sum(1) + m.bias), rtol=1e-6)
        assert calls == [(1, 4)]


def test_forward_pre_hook_single_value_and_prepend():
    order = []
    m = build(ember).seq[0]
    m.register_forward_pre_hook(lambda mod, inp: inp[0] + 0)
    m.register_forward_hook(lambda *a: order.append("second"))
    m.register_forward_hook(lambda *a: order.append("first"), prepend=True)
    m(ember.ones(1, 3))
    assert order == ["first", "second"]


def test_backward_hook_matches_torch_full_hook():
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    results = {}
    for lib in (ember, torch):
        m = build(lib).seq[0].double()
        got = []

        def hook(mod, grad_input, grad_output):
            got.append((as_numpy(grad_input[0]).copy(), as_numpy(grad_output[0]).copy()))
            return (grad_input[0] * 10,)

        register = m.register_backward_hook if lib is ember else m.register_full_backward_hook
        handle = register(hook)
        xin = lib.tensor(x, requires_grad=True)
        (m(xin) ** 2).sum().backward()
        results[lib.__name__] = (got, as_numpy(xin.grad), as_numpy(m.weight.grad))
        handle.remove()
    (ge, xe, we), (gt, xt, wt) = results["ember"], results["torch"]
    assert len(ge) == len(gt) == 1
    np.testing.assert_allclose(ge[0][0], gt[0][0])
    np.testing.assert_allclose(ge[0][1], gt[0][1])
    np.testing.assert_allclose(xe, xt)
    np.testing.assert_allclose(we, wt)


def test_backward_hook_without_input_grad():
    m = build(ember).seq[0]
    got = []
    m.register_backward_hook(lambda mod, gi, go: got.append((gi, tuple(go[0].shape))))
    m(ember.ones(2, 3)).sum().backward()
    assert got == [((None,), (2, 4))]


@pytest.mark.parametrize("call", ["to_dtype", "to_kw", "to_tensor", "to_device_dtype", "double", "float_back"])
def test_to_variants(call):
    m = build(ember)
    m.register_buffer("steps", ember.zeros(1, dtype=ember.int64))
    w = m.seq[0].weight
    if call == "to_dtype":
        m.to(ember.float64)
    elif call == "to_kw":
        m.to(dtype=ember.float64)
    elif call == "to_tensor":
        m.to(ember.zeros(1, dtype=ember.float64))
    elif call == "to_device_dtype":
        m.to("cpu", ember.float64)
    elif call == "double":
        m.double()
    else:
        m.double().float().double()
    assert m.seq[0].weight is w and w.dtype is ember.float64 and w.requires_grad
    assert m.seq[0].count.dtype is ember.float64
    assert m.steps.dtype is ember.int64
    assert all(p.dtype is ember.float64 for p in m.parameters())


def test_to_device_and_half_and_type():
    m = build(ember)
    assert m.to("cpu") is m and m.cpu() is m
    assert m.seq[0].weight.device.type == "cpu"
    m.half()
    assert m.seq[0].weight.dtype is ember.float16
    m.register_buffer("steps", ember.zeros(1, dtype=ember.int64))
    m.type(ember.float64)
    assert m.seq[0].weight.dtype is ember.float64 and m.steps.dtype is ember.float64


def test_to_rejects_integer_dtype():
    with pytest.raises(TypeError) as theirs:
        build(torch).to(torch.int64)
    with pytest.raises(TypeError) as ours:
        build(ember).to(ember.int64)
    assert str(ours.value) == str(theirs.value).replace("torch.", "ember.")


def test_to_moves_gradients_too():
    m = build(ember)
    m(ember.ones(1, 3)).sum().backward()
    m.double()
    assert m.seq[0].weight.grad.dtype is ember.float64


def test_zero_grad_and_requires_grad_():
    m = build(ember)
    m(ember.ones(1, 3)).sum().backward()
    m.zero_grad(set_to_none=False)
    assert all(p.grad is None or not p.grad.numpy().any() for p in m.parameters())
    assert m.seq[0].weight.grad is not None
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())


def test_train_eval_recurse_through_overrides():
    calls = []

    class Custom(ember.nn.Module):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    net = ember.nn.Sequential(ember.nn.Sequential(Custom()))
    assert net.eval() is net
    assert calls == [False] and not net[0][0].training
    net.train()
    assert calls == [False, True] and all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_apply_order():
    seen = []
    build(ember).apply(lambda m: seen.append(type(m).__name__))
    tseen = []
    build(torch).apply(lambda m: tseen.append(type(m).__name__))
    assert seen == tseen


def test_get_submodule_parameter_buffer_and_errors():
    e, t = build(ember), build(torch)
    assert e.get_submodule("seq.1.a") is e.seq[1].a
    assert e.get_submodule("") is e
    assert e.get_parameter("blocks.2.weight") is e.blocks[2].weight
    assert e.get_buffer("seq.0.count") is e.seq[0].count
    for path in ("seq.9", "seq.0.weight.x", "nope"):
        same_outcome(lambda: e.get_submodule(path), (), lambda: t.get_submodule(path), raises=AttributeError,
                     message=True)
    for path in ("seq.0.count", "seq.0.zzz"):
        same_outcome(lambda: e.get_parameter(path), (), lambda: t.get_parameter(path), raises=AttributeError,
                     message=True)
    same_outcome(lambda: e.get_buffer("seq.0.weight"), (), lambda: t.get_buffer("seq.0.weight"),
                 raises=AttributeError, message=True)


def test_registration_errors_match_torch():
    def module(lib):
        m = lib.nn.Module()
        m.existing = 3
        return m

    for action in (
        lambda lib, m: m.register_parameter("a.b", None),
        lambda lib, m: m.register_parameter("", None),
        lambda lib, m: m.register_parameter("existing", None),
        lambda lib, m: m.register_buffer("a.b", None),
        lambda lib, m: m.register_buffer("", None),
        lambda lib, m: m.add_module("", None),
        lambda lib, m: m.add_module("existing", lib.nn.Module()),
        lambda lib, m: m.add_module("x", 3),
        lambda lib, m: m.register_parameter(1, None),
        lambda lib, m: m.register_buffer("b", 3),
        lambda lib, m: m.register_parameter("p", lib.zeros(2)),
    ):
        same_outcome(lambda lib: action(lib, module(lib)), raises=True, exact_type=True,
                     message=lambda text: text.replace("torch Tensor", "ember Tensor"))


def test_non_leaf_parameter_rejected():
    m = ember.nn.Module()
    p = ember.nn.Parameter(ember.ones(2))
    q = p * 2
    q.__class__ = ember.nn.Parameter
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'w'"):
        m.register_parameter("w", q)


def test_attribute_assignment_rules():
    m = build(ember)
    m.seq[0].bias = None
    assert m.seq[0].bias is None and "seq.0.bias" not in m.state_dict()
    with pytest.raises(TypeError, match="cannot assign 'torch.FloatTensor' as parameter 'weight'"):
        m.seq[0].weight = ember.ones(4, 3)
    m.seq[0].count = ember.ones(1)
    assert m.state_dict()["seq.0.count"].tolist() == [1.0]
    m.seq[0].scratch = ember.ones(1)
    assert "seq.0.scratch" not in m.state_dict()
    with pytest.raises(TypeError, match="as child module 'seq'"):
        m.seq = 3
    del m.seq[0].count
    assert "seq.0.count" not in m.state_dict()
    with pytest.raises(AttributeError, match="'Affine' object has no attribute 'count'"):
        m.seq[0].count
    m.seq[0].count = ember.nn.Parameter(ember.ones(1))   # a name can change kind
    assert "seq.0.count" in dict(m.named_parameters())


class _Scale(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = ember.nn.Parameter(ember.arange(3.0))
        self.register_buffer("count", ember.zeros(1))
        self.register_buffer("scratch", ember.zeros(1), persistent=False)

    def forward(self, x):
        return x * self.weight


def test_deepcopy_and_pickle_round_trip():
    m = ember.nn.Sequential(_Scale(), ember.nn.ModuleList([_Scale()]), ember.nn.ParameterList([ember.ones(2)]))
    m[1][0].register_forward_hook(_double_output)
    for twin in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert repr(twin) == repr(m)
        assert list(twin.state_dict()) == list(m.state_dict())
        assert twin[0].weight is not m[0].weight
        assert isinstance(twin[0].weight, ember.nn.Parameter) and twin[0].weight.requires_grad
        assert "scratch" in twin[0]._non_persistent_buffers_set
        np.testing.assert_array_equal(twin[0](ember.ones(3)).detach().numpy(), m[0](ember.ones(3)).detach().numpy())
        np.testing.assert_array_equal(twin[1][0](ember.ones(3)).detach().numpy(), [0.0, 2.0, 4.0])   # hook kept
        with ember.no_grad():
            twin[0].weight.add_(1)
        assert not np.array_equal(twin[0].weight.detach().numpy(), m[0].weight.detach().numpy())
        assert len(twin[2]) == 1


def _double_output(module, inp, out):
    return out * 2


def test_setstate_fills_missing_attributes():
    m = ember.nn.Module()
    state = m.__getstate__()
    del state["_non_persistent_buffers_set"], state["_backward_hooks"]
    fresh = ember.nn.Module.__new__(ember.nn.Module)
    fresh.__setstate__(state)
    assert fresh._non_persistent_buffers_set == set() and fresh._backward_hooks == OrderedDict()


def test_module_class_attributes():
    assert ember.nn.Module.dump_patches is False
    assert ember.nn.Module._version == 1
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        ember.nn.Module()(ember.ones(1))
    assert ember.nn.Module().extra_repr() == ""
    assert repr(ember.nn.Module()) == repr(torch.nn.Module())


def test_parameter_repr_and_flags():
    for rg in (True, False):
        pe = ember.nn.Parameter(ember.tensor([1.0, 2.0]), requires_grad=rg)
        pt = torch.nn.Parameter(torch.tensor([1.0, 2.0]), requires_grad=rg)
        assert repr(pe) == repr(pt) and str(pe) == str(pt)
        assert pe.requires_grad is rg and pe.is_leaf
    p = ember.nn.Parameter(ember.ones(2, 2))
    q = copy.deepcopy(p)
    assert isinstance(q, ember.nn.Parameter) and q.requires_grad and q is not p
    assert tuple(ember.nn.Parameter().shape) == (0,)


@pytest.mark.skipif(not hasattr(ember.nn, "Linear"), reason="needs the linear plugin")
def test_with_linear_layers_matches_torch():
    def make(lib):
        return lib.nn.Sequential(OrderedDict([
            ("fc", lib.nn.Linear(3, 4)),
            ("body", lib.nn.ModuleList([lib.nn.Linear(4, 4), lib.nn.Linear(4, 4), lib.nn.Linear(4, 2, bias=False)])),
            ("heads", lib.nn.ModuleDict({"a": lib.nn.Linear(2, 2)})),
        ]))

    e, t = make(ember), make(torch)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    ye, yt = ember.tensor(x), torch.tensor(x)
    ye, yt = e.fc(ye), t.fc(yt)
    for le, lt in zip(e.body, t.body):
        ye, yt = le(ye), lt(yt)
    np.testing.assert_allclose(as_numpy(e.heads["a"](ye)), as_numpy(t.heads["a"](yt)), rtol=1e-5, atol=1e-6)


# --- hooks with keyword arguments, hooks that always run, extra state, to_empty ------

def _kwargs_hooks(lib):
    """What forward pre- and post-hooks registered with ``with_kwargs`` see and change."""
    seen = []

    class Scale(lib.nn.Module):
        def forward(self, x, *, factor=1.0):
            return x * factor

    m = Scale()

    def pre(mod, args, kwargs):
        seen.append(("pre", sorted(kwargs)))
        return args, {**kwargs, "factor": 3.0}

    def post(mod, args, kwargs, output):
        seen.append(("post", kwargs["factor"]))
        return output + 1

    handles = [m.register_forward_pre_hook(pre, with_kwargs=True),
               m.register_forward_hook(post, with_kwargs=True)]
    first = m(lib.ones(2), factor=2.0).tolist()
    for h in handles:
        h.remove()
    return first, m(lib.ones(2), factor=2.0).tolist(), seen


def test_forward_hooks_with_keyword_arguments():
    same_outcome(_kwargs_hooks)


@pytest.mark.parametrize("result", [3, (1, 2, 3)])
def test_a_pre_hook_with_kwargs_returns_a_pair(result):
    def case(lib):
        m = lib.nn.Identity()
        m.register_forward_pre_hook(lambda mod, args, kwargs: result, with_kwargs=True)
        return m(lib.ones(1))

    same_outcome(case, raises=RuntimeError, message=True)


def test_a_hook_that_always_runs_runs_when_forward_raises():
    def case(lib):
        seen = []

        class Fails(lib.nn.Module):
            def forward(self, x):
                raise ValueError("no")

        m = Fails()
        m.register_forward_hook(lambda mod, args, out: seen.append(("always", out)), always_call=True)
        m.register_forward_hook(lambda mod, args, out: seen.append("plain"))
        with pytest.raises(ValueError):
            m(lib.ones(1))
        return seen

    same_outcome(case)


class _Counter:
    """A module holding a plain Python counter as extra state, in either library."""

    @staticmethod
    def build(lib, start):
        class Counter(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.count = start
                self.weight = lib.nn.Parameter(lib.ones(1) * start)

            def get_extra_state(self):
                return {"count": self.count}

            def set_extra_state(self, state):
                self.count = state["count"]

        return Counter()


def test_extra_state_is_saved_and_loaded():
    def case(lib):
        outer = lib.nn.Sequential(_Counter.build(lib, 5))
        keys = list(outer.state_dict())
        fresh = lib.nn.Sequential(_Counter.build(lib, 0))
        result = fresh.load_state_dict(outer.state_dict())
        return keys, fresh[0].count, list(result.missing_keys), list(result.unexpected_keys)

    same_outcome(case)


@pytest.mark.parametrize("strict", [True, False])
def test_extra_state_missing_or_unexpected(strict):
    def missing(lib):
        r = _Counter.build(lib, 0).load_state_dict({"weight": lib.ones(1)}, strict=strict)
        return list(r.missing_keys), list(r.unexpected_keys)

    def unexpected(lib):
        r = lib.nn.Linear(1, 1).load_state_dict({"weight": lib.ones(1, 1), "bias": lib.ones(1),
                                                 "_extra_state": 3}, strict=strict)
        return list(r.missing_keys), list(r.unexpected_keys)

    same_outcome(missing, raises=None if not strict else RuntimeError, message=True)
    same_outcome(unexpected, raises=None if not strict else RuntimeError, message=True)


@pytest.mark.parametrize("recurse", [True, False])
def test_to_empty_gives_new_memory_of_the_same_shapes(recurse):
    m = ember.nn.Sequential(ember.nn.BatchNorm1d(3))
    m.own = ember.nn.Parameter(ember.ones(2))
    own = m.own
    before = m.state_dict()  # detached: the old memory
    assert m.to_empty(device="cpu", recurse=recurse) is m
    after = m.state_dict(keep_vars=True)
    for key, old in before.items():
        new = after[key]
        assert (new.shape, new.dtype) == (old.shape, old.dtype)
        moved = recurse or key == "own"
        assert np.shares_memory(new.detach().numpy(), old.detach().numpy()) != moved, key
    assert m.own is own, "a Parameter object stays; its memory changes"


def test_state_dict_and_load_pre_hooks_of_the_private_api():
    def case(lib):
        m = lib.nn.Linear(1, 1)
        m._register_state_dict_hook(lambda mod, sd, prefix, meta: sd.update({prefix + "x": 1}))
        seen = []
        m._register_load_state_dict_pre_hook(lambda mod, sd, prefix, *rest: seen.append(type(mod).__name__),
                                             with_module=True)
        m.load_state_dict({"weight": lib.ones(1, 1), "bias": lib.ones(1)})
        return sorted(m.state_dict()), seen

    same_outcome(case)
