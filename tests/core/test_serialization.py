"""ember.save / ember.load: safetensors round trips, files from PyTorch, pickle refusal."""

import io
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


@pytest.mark.parametrize("dtype", [ember.float16, ember.float32, ember.float64, ember.int64, ember.int32,
                                   ember.uint8, ember.bool])
def test_dtypes_round_trip(dtype):
    t = (ember.arange(12) % 3).to(dtype).reshape(3, 4)
    buf = io.BytesIO()
    ember.save({"t": t, "scalar": ember.tensor(2.5)}, buf)
    buf.seek(0)
    back = ember.load(buf)
    assert back["t"].dtype is dtype
    np.testing.assert_array_equal(back["t"].numpy(), t.numpy())
    assert back["scalar"].shape == () and float(back["scalar"]) == 2.5


def test_non_contiguous_views_saved_correctly(tmp_path):
    base = ember.arange(12.0).reshape(3, 4)
    views = {"t": base.t(), "step": base[:, ::2], "shared": base}
    ember.save(views, tmp_path / "v")
    back = ember.load(tmp_path / "v")
    for k, v in views.items():
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())


def test_single_tensor_and_parameter():
    p = ember.nn.Parameter(ember.randn(2, 3))
    buf = io.BytesIO()
    ember.save(p, buf)
    buf.seek(0)
    back = ember.load(buf)
    assert isinstance(back, ember.Tensor) and not back.requires_grad
    np.testing.assert_array_equal(back.numpy(), p.detach().numpy())


def test_nested_dicts_round_trip(tmp_path):
    obj = OrderedDict([("model", OrderedDict([("w", ember.ones(2)), ("inner", {"b": ember.zeros(1)})])),
                       ("ema", {"w": ember.full((2,), 3.0)}), ("model.w", ember.ones(3))])
    ember.save(obj, tmp_path / "n")
    back = ember.load(tmp_path / "n")
    assert list(back) == ["model", "ema", "model.w"]
    assert back["model"]["w"].tolist() == [1.0, 1.0]
    assert back["model"]["inner"]["b"].tolist() == [0.0]
    assert back["ema"]["w"].tolist() == [3.0, 3.0]
    assert back["model.w"].tolist() == [1.0, 1.0, 1.0]


def test_empty_dict(tmp_path):
    ember.save({}, tmp_path / "e")
    assert ember.load(tmp_path / "e") == OrderedDict()


@pytest.mark.parametrize("obj", [{"lr": 0.1, "w": ember.ones(1)}, {"state": {0: {"step": 3}}}, [ember.ones(1)],
                                 {"x": None}, 3])
def test_objects_needing_pickle_are_refused(obj, tmp_path):
    with pytest.raises(TypeError, match="needs pickle. Pass pickle_ok=True"):
        ember.save(obj, tmp_path / "p")
    assert not (tmp_path / "p").exists()


def test_pickle_ok_round_trip_and_load_guard(tmp_path):
    obj = {"state": {0: {"step": 3, "exp_avg": ember.ones(2)}}, "param_groups": [{"lr": 0.1, "params": [0]}]}
    path = tmp_path / "opt"
    ember.save(obj, path, pickle_ok=True)
    with pytest.raises(RuntimeError, match="written with pickle"):
        ember.load(path)
    back = ember.load(path, pickle_ok=True)
    assert back["param_groups"] == obj["param_groups"]
    assert back["state"][0]["step"] == 3 and back["state"][0]["exp_avg"].tolist() == [1.0, 1.0]


def test_torch_save_file_refused_clearly(tmp_path):
    path = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(RuntimeError, match="not in the safetensors format"):
        ember.load(path)
    (tmp_path / "junk").write_bytes(b"hello world, not a model")
    with pytest.raises(RuntimeError, match="not a safetensors file"):
        ember.load(tmp_path / "junk")


def test_map_location(tmp_path):
    ember.save({"w": ember.ones(2)}, tmp_path / "m")
    back = ember.load(tmp_path / "m", map_location="cpu")
    assert back["w"].device.type == "cpu"
    back = ember.load(tmp_path / "m", map_location=ember.device("cpu"))
    assert back["w"].tolist() == [1.0, 1.0]


@pytest.mark.cuda
@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs CuPy and a GPU")
def test_cuda_tensors_round_trip(tmp_path):
    w = ember.arange(6.0, device="cuda").reshape(2, 3).t()
    ember.save({"w": w}, tmp_path / "g")
    back = ember.load(tmp_path / "g", map_location="cuda")
    assert back["w"].device.type == "cuda"
    np.testing.assert_array_equal(back["w"].cpu().numpy(), w.cpu().numpy())
