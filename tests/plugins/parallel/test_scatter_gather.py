"""ember.nn.parallel.scatter / gather (and scatter_kwargs): torch.chunk's sizes, the
containers torch splits and joins, gradients through both, over lists of CPU devices
and, on another backend, that backend and the CPU."""

import warnings
from collections import namedtuple

import numpy as np
import pytest

import ember
from ember.nn.parallel import gather, scatter
from ember.plugins.parallel.scatter_gather import scatter_kwargs
from tests.oracle import placed

torch = pytest.importorskip("torch")
Pair = namedtuple("Pair", "a b")


def _data(*shape, device="cpu", requires_grad=False):
    values = np.sin(np.arange(1, int(np.prod(shape)) + 1)).reshape(shape)
    return ember.tensor(values, device=device, requires_grad=requires_grad)


@pytest.fixture
def devices(device):
    """Two devices: the test's device twice on the CPU, the test's device and the CPU otherwise."""
    return [device, "cpu"]


@pytest.mark.parametrize("n, parts", [(6, 2), (5, 2), (1, 3), (4, 3), (7, 3), (0, 2)])
def test_chunk_sizes_are_torch_chunks(device, n, parts):
    x = _data(n, 2, device=device)
    chunks = scatter(x, [device] * parts)
    assert isinstance(chunks, tuple)
    assert [len(c) for c in chunks] == [len(c) for c in torch.zeros(n, 2).chunk(parts)]
    if n:
        np.testing.assert_array_equal(ember.cat([c.cpu() for c in chunks]).numpy(), x.cpu().numpy())


@pytest.mark.parametrize("dim", [1, -1])
def test_scatter_and_gather_along_another_dim(devices, dim):
    x = _data(2, 5, device=devices[0])
    chunks = scatter(x, devices, dim=dim)
    assert [tuple(c.shape) for c in chunks] == [(2, 3), (2, 2)]
    assert [c.device for c in chunks] == [placed(d) for d in devices]
    back = gather(chunks, devices[0], dim=dim)
    np.testing.assert_array_equal(back.cpu().numpy(), x.cpu().numpy())


def test_containers_are_split_item_by_item_and_other_objects_shared(devices):
    x, y = _data(4, 2, device=devices[0]), _data(4, device=devices[0])
    marker = object()
    parts = scatter((x, [y, "s"], {"k": x, "n": 3}, Pair(y, marker), None), devices)
    assert len(parts) == 2 and all(isinstance(p, tuple) for p in parts)
    for j, (px, (py, s), kw, pair, none) in enumerate(parts):
        rows = slice(2 * j, 2 * j + 2)
        np.testing.assert_array_equal(px.cpu().numpy(), x.cpu().numpy()[rows])
        np.testing.assert_array_equal(py.cpu().numpy(), y.cpu().numpy()[rows])
        assert px.device == placed(devices[j]) and s == "s" and none is None
        assert list(kw) == ["k", "n"] and kw["n"] == 3
        assert type(pair) is Pair and pair.b is marker


def test_a_container_has_as_many_parts_as_its_item_with_fewest(device):
    # as torch: the longer item's further chunks are left out
    parts = scatter((_data(1, device=device), _data(4, device=device)), [device] * 3)
    assert len(parts) == 1 and [len(t) for t in parts[0]] == [1, 2]


def test_scatter_kwargs_pads_the_shorter_side(device):
    args, kwargs = scatter_kwargs((), {"x": _data(4, device=device)}, [device, device])
    assert args == ((), ()) and [len(k["x"]) for k in kwargs] == [2, 2]
    args, kwargs = scatter_kwargs((_data(4, device=device),), None, [device, device])
    assert [len(a[0]) for a in args] == [2, 2] and kwargs == ({}, {})


def test_gather_joins_containers_on_the_target_device(devices):
    target = devices[-1]
    outs = [(_data(2, 3, device=d), {"v": _data(2, device=d), "none": None}, Pair(_data(1, device=d), None))
            for d in devices]
    joined = gather(outs, target)
    assert isinstance(joined, tuple) and type(joined[2]) is Pair
    assert tuple(joined[0].shape) == (4, 3) and joined[0].device == placed(target)
    assert tuple(joined[1]["v"].shape) == (4,) and joined[1]["none"] is None
    assert tuple(joined[2].a.shape) == (2,) and joined[2].b is None
    np.testing.assert_array_equal(joined[0].cpu().numpy(), np.concatenate([o[0].cpu().numpy() for o in outs]))


def test_minus_one_is_the_cpu(device):
    assert gather([_data(2, device=device)] * 2, -1).device == ember.device("cpu")


def test_scalars_become_a_vector_with_a_warning(device):
    with pytest.warns(UserWarning, match="only scalars"):
        out = gather([ember.tensor(1.5, device=device), ember.tensor(2.5, device=device)], device)
    assert out.tolist() == [1.5, 2.5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tuple(gather([_data(2, device=device)] * 2, device).shape) == (4,)


def test_gradients_flow_back_through_scatter_and_gather(devices):
    x = _data(5, 3, device=devices[0], requires_grad=True)
    parts = scatter(x, devices)
    out = gather([p * (j + 1) for j, p in enumerate(parts)], devices[0])
    (out * out).sum().backward()
    scale = np.array([1.0] * 3 + [2.0] * 2)[:, None]
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * scale ** 2 * x.detach().cpu().numpy(), rtol=1e-12)
    assert x.grad.device == x.device


def test_gradcheck_of_the_round_trip(devices):
    x = _data(4, 2, device=devices[0], requires_grad=True)

    def round_trip(t):
        return gather([p.sin() * p for p in scatter(t, devices, dim=1)], devices[0], dim=1)

    assert ember.autograd.gradcheck(round_trip, (x,))
    assert ember.autograd.gradgradcheck(round_trip, (x,))


@pytest.mark.parametrize("call, error, match", [
    (lambda d: scatter(_data(4, device=d), []), ValueError, "at least one target device"),
    (lambda d: scatter(ember.tensor(1.0, device=d), [d, d]), RuntimeError, "at least a 1-dimensional"),
    (lambda d: scatter(_data(4, device=d), [d, d], dim=1), IndexError, "out of range"),
    (lambda d: scatter(_data(4, device=d), [1.5]), TypeError, "device"),
    (lambda d: gather([], d), ValueError, "at least one output"),
    (lambda d: gather([{"a": 1}, {"a": 1, "b": 2}], d), ValueError, "same number of keys"),
    (lambda d: gather([(1,), (2,)], d), TypeError, "cannot gather outputs of type int"),
    (lambda d: gather([(_data(1, device=d),), ()], d), ValueError, "shorter"),
    (lambda d: gather([_data(2, 3, device=d), _data(2, 4, device=d)], d), RuntimeError, "Sizes of tensors"),
])
def test_bad_input(device, call, error, match):
    with pytest.raises(error, match=match):
        call(device)
