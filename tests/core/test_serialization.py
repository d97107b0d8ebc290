"""ember.save / ember.load: round trips in both formats, safetensors files from PyTorch, pickle refusal.

torch's zip format in depth (files from torch.save, files for torch.load, hostile
files) is tested in test_checkpoint_format.py."""

import io
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import ember
from tests.oracle import as_numpy, torch

safetensors_torch = pytest.importorskip("safetensors.torch")


def make(lib):
    """A small model from Parameters, buffers and containers (same in both libraries)."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self, i, o):
            super().__init__()
            self.weight = nn.Parameter(lib.zeros(o, i))
            self.bias = nn.Parameter(lib.zeros(o))
            self.register_buffer("steps", lib.zeros(1, dtype=lib.int64))

        def forward(self, x):
            return lib.tanh(x @ self.weight.t() + self.bias)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(Block(3, 5), Block(5, 4))
            self.heads = nn.ModuleList([Block(4, 2)])
            self.scale = nn.ParameterDict({"s": nn.Parameter(lib.ones(2))})

        def forward(self, x):
            return self.heads[0](self.body(x)) * self.scale["s"]

    return Net()


def test_state_dict_round_trip(tmp_path):
    m = make(ember)
    for p in m.parameters():
        ember.nn.init.normal_(p)
    path = tmp_path / "model.safetensors"
    ember.save(m.state_dict(), path)
    loaded = ember.load(path)
    sd = m.state_dict()
    assert isinstance(loaded, OrderedDict)
    assert list(loaded) == list(sd)
    assert loaded._metadata == sd._metadata
    for k in sd:
        assert loaded[k].dtype is sd[k].dtype
        np.testing.assert_array_equal(loaded[k].numpy(), sd[k].numpy())
    fresh = make(ember)
    fresh.load_state_dict(loaded)
    x = ember.randn(4, 3)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), m(x).detach().numpy())


def test_file_written_by_pytorch_loads_and_gives_torch_outputs(tmp_path):
    torch.manual_seed(0)
    t = make(torch)
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.randn(p.shape))
    path = str(tmp_path / "torch.safetensors")
    safetensors_torch.save_file(t.state_dict(), path)
    e = make(ember)
    result = e.load_state_dict(ember.load(path))
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    np.testing.assert_allclose(as_numpy(e(ember.tensor(x))), as_numpy(t(torch.tensor(x))), rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not hasattr(ember.nn, "Linear"), reason="needs the linear plugin")
def test_pytorch_linear_file_into_ember_linear(tmp_path):
    t = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    path = str(tmp_path / "lin.safetensors")
    safetensors_torch.save_file(t.state_dict(), path)
    e = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.Linear(3, 2))
    e.load_state_dict(ember.load(path))
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(as_numpy(e(ember.tensor(x))), as_numpy(t(torch.tensor(x))), rtol=1e-5, atol=1e-6)


def test_ember_file_loads_into_pytorch(tmp_path):
    e = make(ember)
    for p in e.parameters():
        ember.nn.init.uniform_(p, -1, 1)
    path = str(tmp_path / "ember.safetensors")
    ember.save(e.state_dict(), path)
    t = make(torch)
    t.load_state_dict(safetensors_torch.load_file(path))
    x = np.random.default_rng(2).standard_normal((3, 3)).astype(np.float32)
    np.testing.assert_allclose(as_numpy(e(ember.tensor(x))), as_numpy(t(torch.tensor(x))), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fmt", ["torch", "safetensors"])
@pytest.mark.parametrize("dtype", [ember.float16, ember.float32, ember.float64, ember.int64, ember.int32,
                                   ember.uint8, ember.bool])
def test_dtypes_round_trip(dtype, fmt):
    t = (ember.arange(12) % 3).to(dtype).reshape(3, 4)
    buf = io.BytesIO()
    ember.save({"t": t, "scalar": ember.tensor(2.5)}, buf, format=fmt)
    buf.seek(0)
    back = ember.load(buf)
    assert back["t"].dtype is dtype
    np.testing.assert_array_equal(back["t"].numpy(), t.numpy())
    assert back["scalar"].shape == () and float(back["scalar"]) == 2.5


@pytest.mark.parametrize("fmt", ["torch", "safetensors"])
def test_non_contiguous_views_saved_correctly(tmp_path, fmt):
    base = ember.arange(12.0).reshape(3, 4)
    views = {"t": base.t(), "step": base[:, ::2], "shared": base, "flipped": base.flip(0)}
    ember.save(views, tmp_path / "v", format=fmt)
    back = ember.load(tmp_path / "v")
    for k, v in views.items():
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())


def test_single_tensor_and_parameter():
    p = ember.nn.Parameter(ember.randn(2, 3))
    buf = io.BytesIO()
    ember.save(p, buf, format="safetensors")   # arrays only: the Parameter comes back a plain tensor
    buf.seek(0)
    back = ember.load(buf)
    assert type(back) is ember.Tensor and not back.requires_grad
    np.testing.assert_array_equal(back.numpy(), p.detach().numpy())
    buf = io.BytesIO()
    ember.save(p, buf)   # torch's format keeps the Parameter, as torch.save does
    buf.seek(0)
    back = ember.load(buf)
    assert type(back) is ember.nn.Parameter and back.requires_grad
    np.testing.assert_array_equal(back.detach().numpy(), p.detach().numpy())


@pytest.mark.parametrize("fmt", ["torch", "safetensors"])
def test_nested_dicts_round_trip(tmp_path, fmt):
    obj = OrderedDict([("model", OrderedDict([("w", ember.ones(2)), ("inner", {"b": ember.zeros(1)})])),
                       ("ema", {"w": ember.full((2,), 3.0)}), ("model.w", ember.ones(3))])
    ember.save(obj, tmp_path / "n", format=fmt)
    back = ember.load(tmp_path / "n")
    assert list(back) == ["model", "ema", "model.w"]
    assert back["model"]["w"].tolist() == [1.0, 1.0]
    assert back["model"]["inner"]["b"].tolist() == [0.0]
    assert back["ema"]["w"].tolist() == [3.0, 3.0]
    assert back["model.w"].tolist() == [1.0, 1.0, 1.0]


def test_empty_dict(tmp_path):
    ember.save({}, tmp_path / "e")
    assert ember.load(tmp_path / "e") == OrderedDict()


def test_format_follows_the_file_name_unless_given(tmp_path):
    ember.save({"w": ember.ones(2)}, tmp_path / "w.safetensors")
    assert (tmp_path / "w.safetensors").read_bytes()[8:9] == b"{"
    ember.save({"w": ember.ones(2)}, tmp_path / "w.pt")
    assert (tmp_path / "w.pt").read_bytes()[:4] == b"PK\x03\x04"
    ember.save({"w": ember.ones(2)}, tmp_path / "w2.safetensors", format="torch")
    assert (tmp_path / "w2.safetensors").read_bytes()[:4] == b"PK\x03\x04"
    with pytest.raises(ValueError, match="format must be one of"):
        ember.save({}, tmp_path / "x", format="pickle")


@pytest.mark.parametrize("obj", [{"lr": 0.1, "w": ember.ones(1)}, {"state": {0: {"step": 3}}}, [ember.ones(1)],
                                 {"x": None}, 3])
def test_safetensors_refuses_what_it_cannot_hold(obj, tmp_path):
    with pytest.raises(TypeError, match="safetensors format holds a tensor or"):
        ember.save(obj, tmp_path / "p.safetensors")
    assert not (tmp_path / "p.safetensors").exists()
    ember.save(obj, tmp_path / "p.pt")   # torch's format holds it without pickle_ok
    back = ember.load(tmp_path / "p.pt")
    assert repr(back) == repr(obj)


class Custom:
    def __init__(self, v):
        self.v = v


@pytest.mark.parametrize("obj, what", [
    (Custom(1), "an object of type Custom at the top"),
    ({"a": [1, Custom(2)]}, r"an object of type Custom at \['a'\]\[1\]"),
    ({"model": ember.nn.Module()}, r"a whole module \(Module\) at \['model'\]; save model.state_dict\(\)"),
    ({"d": np.array([object()])}, "a NumPy array of dtype object"),
    ({"f": len}, "builtin_function_or_method"),
    ({"s": frozenset([1])}, "frozenset"),
    ({"g": ember.sparse_coo_tensor([[0]], [1.0], (2,))}, r"a sparse tensor at \['g'\]"),
])
def test_objects_needing_pickle_are_refused(obj, what, tmp_path):
    with pytest.raises(TypeError, match=what + ".*Pass pickle_ok=True"):
        ember.save(obj, tmp_path / "p")
    assert not (tmp_path / "p").exists()


def test_pickle_ok_round_trip_and_load_guard(tmp_path):
    obj = {"state": {0: {"step": 3, "exp_avg": ember.ones(2)}}, "extra": Custom(5)}
    path = tmp_path / "opt"
    ember.save(obj, path, pickle_ok=True)
    with pytest.raises(pickle.UnpicklingError, match=f"refused the global '{__name__}.Custom'.*pickle_ok=True"):
        ember.load(path)
    with pytest.raises(pickle.UnpicklingError, match="refused the global"):
        ember.load(path, weights_only=True)
    for back in (ember.load(path, pickle_ok=True), ember.load(path, weights_only=False)):
        assert back["extra"].v == 5
        assert back["state"][0]["step"] == 3 and back["state"][0]["exp_avg"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="contradict"):
        ember.load(path, pickle_ok=True, weights_only=True)


def test_whole_module_with_pickle_ok(tmp_path):
    m = ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.Tanh())
    ember.save(m, tmp_path / "m", pickle_ok=True)
    back = ember.load(tmp_path / "m", pickle_ok=True)
    x = ember.randn(4, 3)
    assert type(back) is ember.nn.Sequential and type(back[0].weight) is ember.nn.Parameter
    np.testing.assert_array_equal(back(x).detach().numpy(), m(x).detach().numpy())


def test_unreadable_files_refused_clearly(tmp_path):
    (tmp_path / "junk").write_bytes(b"hello world, not a model")
    with pytest.raises(RuntimeError, match="not a checkpoint"):
        ember.load(tmp_path / "junk")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(RuntimeError, match="the file is empty"):
        ember.load(tmp_path / "empty")
    with pytest.raises(TypeError, match="a file name or a binary file object"):
        ember.load(3.5)


@pytest.mark.parametrize("name", ["m.pt", "m.safetensors"])
def test_map_location(tmp_path, name):
    ember.save({"w": ember.ones(2)}, tmp_path / name)
    for where in ("cpu", ember.device("cpu"), {"cpu": "cpu"}, {"cuda:0": "cpu"}, lambda storage, loc: storage,
                  lambda storage, loc: None):
        back = ember.load(tmp_path / name, map_location=where)
        assert back["w"].device.type == "cpu" and back["w"].tolist() == [1.0, 1.0]
    seen = []
    ember.load(tmp_path / name, map_location=lambda storage, loc: seen.append((storage.tolist(), loc)))
    assert seen == [([1.0, 1.0], "cpu")]
    with pytest.raises(TypeError, match="must return a tensor or None"):
        ember.load(tmp_path / name, map_location=lambda storage, loc: "cpu")
    with pytest.raises(TypeError, match="map_location must be None, a device"):
        ember.load(tmp_path / name, map_location=2.5)


@pytest.mark.cuda
@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs CuPy and a GPU")
def test_cuda_tensors_round_trip(tmp_path):
    w = ember.arange(6.0, device="cuda").reshape(2, 3).t()
    ember.save({"w": w}, tmp_path / "g")
    back = ember.load(tmp_path / "g", map_location="cuda")
    assert back["w"].device.type == "cuda"
    np.testing.assert_array_equal(back["w"].cpu().numpy(), w.cpu().numpy())
