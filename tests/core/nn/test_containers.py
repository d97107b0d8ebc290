"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict against torch."""

from collections import OrderedDict

import numpy as np
import pytest

import ember
from tests.oracle import as_numpy, torch


def make_tag(lib):
    class Tag(lib.nn.Module):
        """A parameter-free layer that adds its number (so order is visible)."""

        def __init__(self, k):
            super().__init__()
            self.k = k

        def extra_repr(self):
            return f"k={self.k}"

        def forward(self, x):
            return x * 10 + self.k

    return Tag


def both(fn):
    """Run ``fn(lib, Tag)`` for ember and torch; return both results."""
    return fn(ember, make_tag(ember)), fn(torch, make_tag(torch))


def same_repr(fn):
    e, t = both(fn)
    assert repr(e) == repr(t)
    return e, t


def test_sequential_positional_and_ordered_dict():
    e, t = same_repr(lambda lib, Tag: lib.nn.Sequential(Tag(1), Tag(2), Tag(3)))
    assert float(e(ember.tensor(0.0))) == float(t(torch.tensor(0.0))) == 123.0
    same_repr(lambda lib, Tag: lib.nn.Sequential(OrderedDict([("first", Tag(1)), ("second", Tag(2))])))
    same_repr(lambda lib, Tag: lib.nn.Sequential())


def test_sequential_indexing_slicing():
    def check(lib, Tag):
        s = lib.nn.Sequential(Tag(1), Tag(2), Tag(3), Tag(4))
        sub = s[1:3]
        assert type(sub) is lib.nn.Sequential and len(sub) == 2
        assert s[-1].k == 4 and s[0].k == 1
        with pytest.raises(IndexError, match="index 4 is out of range"):
            s[4]
        return repr(s[::2]) + repr(s[1:]) + repr(sub)

    e, t = both(check)
    assert e == t


def test_sequential_mutation():
    def run(lib, Tag):
        s = lib.nn.Sequential(Tag(1), Tag(2), Tag(3))
        s[1] = Tag(20)
        del s[0]
        s.append(Tag(4))
        s.insert(1, Tag(5))
        s.insert(-1, Tag(6))
        s.extend(lib.nn.Sequential(Tag(7)))
        popped = s.pop(0)
        s2 = s + lib.nn.Sequential(Tag(8))
        s3 = lib.nn.Sequential(Tag(9)) * 2
        s4 = lib.nn.Sequential(Tag(10))
        s4 *= 3
        s5 = lib.nn.Sequential(Tag(11))
        s5 += lib.nn.Sequential(Tag(12))
        del s2[1:3]
        return repr(s) + repr(s2) + repr(s3) + repr(s4) + repr(s5) + repr(popped) + str(len(s))

    e, t = both(run)
    assert e == t


def test_sequential_errors():
    s = ember.nn.Sequential(ember.nn.Module())
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential class"):
        s + ember.nn.ModuleList()
    with pytest.raises(ValueError, match="Non-positive multiplication factor 0"):
        s * 0
    with pytest.raises(TypeError, match="unsupported operand"):
        s * 1.5
    with pytest.raises(IndexError, match="Index out of range: 5"):
        s.insert(5, ember.nn.Module())
    with pytest.raises(TypeError, match="is not a Module subclass"):
        ember.nn.Sequential(3)


def test_module_list_operations_and_repr():
    def run(lib, Tag):
        ml = lib.nn.ModuleList([Tag(1), Tag(1), Tag(1), Tag(2)])
        ml.append(Tag(2))
        ml.extend([Tag(3), Tag(3)])
        ml.insert(0, Tag(0))
        ml += [Tag(4)]
        ml[1] = Tag(9)
        del ml[-1]
        popped = ml.pop(2)
        sliced = ml[1:4]
        combined = ml + lib.nn.ModuleList([Tag(5)])
        return (repr(ml), repr(sliced), type(sliced).__name__, repr(combined), repr(popped), len(ml),
                [m.k for m in ml], ml[-2].k, repr(lib.nn.ModuleList()))

    e, t = both(run)
    assert e == t


def test_module_list_registers_and_errors():
    ml = ember.nn.ModuleList([ember.nn.Sequential(ember.nn.Module())])
    parent = ember.nn.Module()
    parent.layers = ml
    assert [n for n, _ in parent.named_modules()] == ["", "layers", "layers.0", "layers.0.0"]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable, but got int"):
        ml.extend(3)
    with pytest.raises(IndexError, match="index 3 is out of range"):
        ml[3]
    assert "0" not in dir(ml)


def test_module_dict():
    def run(lib, Tag):
        d = lib.nn.ModuleDict({"b": Tag(1), "a": Tag(2)})
        d["c"] = Tag(3)
        d.update([("d", Tag(4)), ("b", Tag(5))])
        d.update(OrderedDict([("z", Tag(6))]))
        d.update(lib.nn.ModuleDict({"y": Tag(7)}))
        popped = d.pop("a")
        del d["c"]
        out = (repr(d), list(d.keys()), [m.k for m in d.values()], [k for k, _ in d.items()], list(d),
               "b" in d, "a" in d, len(d), repr(popped))
        d.clear()
        return out + (len(d), repr(d))

    e, t = both(run)
    assert e == t


def test_module_dict_update_errors():
    d = ember.nn.ModuleDict()
    with pytest.raises(TypeError, match="ModuleDict.update should be called with an iterable of key/value pairs"):
        d.update(3)
    with pytest.raises(ValueError, match="#0 has length 3; 2 is required"):
        d.update([("a", ember.nn.Module(), 1)])
    with pytest.raises(TypeError, match="#0 should be Iterable"):
        d.update([3])


def test_parameter_list():
    def run(lib, Tag):
        pl = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.zeros(4)])
        pl.append(lib.nn.Parameter(lib.ones(1), requires_grad=False))
        pl.extend([lib.ones(2, dtype=lib.float64)])
        pl += [lib.ones(5)]
        pl[0] = lib.zeros(3, 3)
        sliced = pl[1:3]
        names = [n for n, _ in pl.named_parameters()]
        kinds = [type(p).__name__ for p in pl]
        return (repr(pl), repr(sliced), type(sliced).__name__, names, kinds, len(pl),
                [tuple(p.shape) for p in pl], pl[-1].requires_grad, pl[2].requires_grad, list(pl.state_dict()))

    e, t = both(run)
    assert e == t


def test_parameter_list_holds_other_objects_and_errors():
    e, t = same_repr(lambda lib, Tag: lib.nn.ParameterList([lib.ones(1), "text", None]))
    pl = ember.nn.ParameterList()
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable, but got Tensor"):
        pl.extend(ember.ones(3))
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        pl(ember.ones(1))
    with pytest.raises(IndexError):
        pl[0]


def test_parameter_dict():
    def run(lib, Tag):
        pd = lib.nn.ParameterDict({"b": lib.nn.Parameter(lib.ones(2)), "a": lib.zeros(3, 1)})
        pd["c"] = lib.ones(1, dtype=lib.float64)
        pd.update([("d", lib.ones(2)), ("b", lib.zeros(5))])
        pd.update(OrderedDict([("z", lib.ones(1))]))
        first = repr(pd)
        popped = pd.pop("a")
        key, item = pd.popitem()
        default = pd.setdefault("e", lib.ones(7))
        got = pd.get("missing", "fallback")
        copied = pd.copy()
        merged = pd | lib.nn.ParameterDict({"m": lib.ones(1)})
        fromkeys = pd.fromkeys(["x", "y"], lib.ones(2))
        out = (first, repr(pd), list(pd.keys()), [tuple(v.shape) for v in pd.values()],
               [k for k, _ in pd.items()], list(reversed(pd)), "b" in pd, len(pd), tuple(popped.shape), key,
               tuple(item.shape), tuple(default.shape), got, repr(copied), repr(merged), repr(fromkeys),
               [n for n, _ in pd.named_parameters()], type(pd["c"]).__name__)
        del pd["b"]
        pd.clear()
        return out + (len(pd),)

    e, t = both(run)
    assert e == t


def test_parameter_dict_errors():
    pd = ember.nn.ParameterDict()
    with pytest.raises(TypeError, match="not a string"):
        pd[1]
    with pytest.raises(RuntimeError, match="ParameterDict should not be called."):
        pd(ember.ones(1))
    with pytest.raises(TypeError, match="ParametersDict.update should be called with an iterable"):
        pd.update(3)


def test_containers_in_a_model_train_together():
    def run(lib, Tag):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.weights = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(3) * (i + 1)) for i in range(2)])
                self.scales = lib.nn.ParameterDict({"s": lib.nn.Parameter(lib.ones(3) * 0.5)})
                self.body = lib.nn.Sequential(Tag(1), lib.nn.ModuleList([Tag(2)])[0])

            def forward(self, x):
                for w in self.weights:
                    x = x * w
                return self.body(x * self.scales["s"])

        net = Net()
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        net(x).sum().backward()
        return (as_numpy(net(x)), as_numpy(x.grad), [as_numpy(p.grad) for p in net.parameters()],
                list(net.state_dict()), repr(net))

    (oe, ge, pe, ke, re), (ot, gt, pt, kt, rt) = both(run)
    np.testing.assert_allclose(oe, ot)
    np.testing.assert_allclose(ge, gt)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a, b)
    assert ke == kt and re == rt
