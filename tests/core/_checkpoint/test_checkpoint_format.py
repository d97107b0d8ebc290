"""Checkpoints in torch's zip format: the training idiom, files from torch.save read
without torch, ember's files read by torch.load(weights_only=True), hostile files."""

import inspect
import io
import json
import os
import pathlib
import pickle
import random
import subprocess
import sys
import textwrap
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

ROOT = os.fspath(pathlib.Path(__file__).resolve().parents[3])


def describe(obj):
    """A JSON-able outline of a checkpoint, the same for torch's and ember's objects:
    types, dtypes, shapes, exact values, which tensors are one object and which
    share a storage (named by the first tensor seen on it)."""
    first_path, storage_of = {}, {}

    def walk(x, path):
        kind = type(x).__name__
        if hasattr(x, "storage_offset"):   # a torch or ember tensor
            if id(x) in first_path:
                return ["same object as", first_path[id(x)]]
            first_path[id(x)] = path
            base = x.data_ptr() - x.storage_offset() * x.element_size()
            storage = storage_of.setdefault(base, path) if x.numel() else None
            values = x.detach().cpu().numpy().tolist()
            return ["Parameter" if kind == "Parameter" else "Tensor", str(x.dtype).split(".")[-1],
                    list(x.shape), x.requires_grad, storage, values]
        if kind in ("dict", "OrderedDict", "Counter"):
            items = [[walk(k, f"{path}/key{i}"), walk(v, f"{path}/{k}")] for i, (k, v) in enumerate(x.items())]
            meta = getattr(x, "_metadata", None)
            return [kind, items] + ([] if meta is None else [walk(meta, path + "/_metadata")])
        if kind in ("list", "tuple"):
            return [kind, [walk(v, f"{path}/{i}") for i, v in enumerate(x)]]
        if kind == "Size":
            return [kind, list(x)]
        if kind in ("dtype", "device"):
            return [kind, str(x).split(".")[-1]]
        if kind == "ndarray":
            return [kind, str(x.dtype), list(x.shape), x.tolist()]
        if isinstance(x, (bool, int, float, str, type(None))):
            return [kind, x]
        if isinstance(x, (bytes, complex)):
            return [kind, repr(x)]
        raise TypeError(f"unexpected {kind} at {path}")

    return json.loads(json.dumps(walk(obj, "")))


def outline_in_subprocess(path, map_location="None"):
    """ember.load(path) in a fresh interpreter that never imports torch; its outline."""
    script = textwrap.dedent(inspect.getsource(describe)) + textwrap.dedent(f"""
        import json, sys
        import ember
        obj = ember.load({str(path)!r}, map_location={map_location})
        assert "torch" not in sys.modules, "ember imported torch"
        print(json.dumps(describe(obj)))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --------------------------------------------------------------------------- models

def make_model(lib, seed=0):
    lib.manual_seed(seed)
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3))


def train(model, opt, steps, lib, seed):
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(steps):
        x = lib.tensor(rng.standard_normal((6, 4)).astype(np.float32))
        y = lib.tensor(rng.integers(0, 3, 6))
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_training_idiom_round_trip_resumes_identically():
    model = make_model(ember)
    opt = ember.optim.Adam(model.parameters(), lr=0.01)
    train(model, opt, 3, ember, seed=1)
    buf = io.BytesIO()
    ember.save({"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict()}, buf)

    buf.seek(0)
    checkpoint = ember.load(buf)
    resumed = make_model(ember, seed=5)
    resumed_opt = ember.optim.Adam(resumed.parameters(), lr=0.5)
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    assert checkpoint["epoch"] == 3 and resumed_opt.param_groups[0]["lr"] == 0.01

    assert train(resumed, resumed_opt, 4, ember, seed=2) == train(model, opt, 4, ember, seed=2)
    for (name, a), b in zip(model.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


# --------------------------------------------------------------------------- torch.save -> ember.load

TORCH_DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def torch_checkpoint():
    torch.manual_seed(0)
    linear, lstm, bn = torch.nn.Linear(3, 2), torch.nn.LSTM(3, 4, num_layers=2), torch.nn.BatchNorm1d(3)
    adam = torch.optim.Adam(list(linear.parameters()) + list(lstm.parameters()), lr=1e-3)
    sgd = torch.optim.SGD(bn.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(5, 2, 3)
    (linear(x).sum() + lstm(x)[0].sum() + bn(x[0]).sum()).backward()
    adam.step()
    sgd.step()
    steps = torch.optim.lr_scheduler.MultiStepLR(sgd, milestones=[2, 5, 5])
    base = torch.arange(12.0).reshape(3, 4)
    same = torch.randn(2)
    return {
        "epoch": 7, "loss": 0.125, "name": "run-1", "flags": [True, False, None], "big": 2 ** 70,
        "model": {"linear": linear.state_dict(), "lstm": lstm.state_dict(), "bn": bn.state_dict()},
        "optimizer": {"adam": adam.state_dict(), "sgd": sgd.state_dict()}, "scheduler": steps.state_dict(),
        "dtypes": {d: (torch.arange(-3, 3) % 3).to(getattr(torch, d)) for d in TORCH_DTYPES},
        "views": {"base": base, "row": base[1], "T": base.t(), "strided": base[:, ::2], "tail": base.view(-1)[5:]},
        "same": (same, same),
        "parameters": [torch.nn.Parameter(torch.randn(2, 2)),
                       torch.nn.Parameter(torch.ones(3), requires_grad=False)],
        "scalar": torch.tensor(2.5), "empty": torch.empty(0, 3), "size": torch.Size([2, 5]),
        "dtype": torch.float16, "device": torch.device("cpu"),
        "extreme": torch.tensor([float("inf"), -0.0, 1e-45, 3.4e38]),
    }


def test_torch_save_file_loads_in_ember_without_torch(tmp_path):
    obj = torch_checkpoint()
    path = tmp_path / "torch.pt"
    torch.save(obj, path)
    assert outline_in_subprocess(path) == describe(obj)


def test_torch_state_dicts_load_into_ember_models(tmp_path):
    t_model = make_model(torch)
    t_opt = torch.optim.Adam(t_model.parameters(), lr=0.01)
    train(t_model, t_opt, 2, torch, seed=3)
    torch.save({"model": t_model.state_dict(), "optimizer": t_opt.state_dict()}, tmp_path / "ck.pt")
    checkpoint = ember.load(tmp_path / "ck.pt")
    e_model = make_model(ember, seed=9)
    e_opt = ember.optim.Adam(e_model.parameters(), lr=0.01)
    e_model.load_state_dict(checkpoint["model"])
    e_opt.load_state_dict(checkpoint["optimizer"])
    np.testing.assert_allclose(train(e_model, e_opt, 3, ember, seed=4), train(t_model, t_opt, 3, torch, seed=4),
                               rtol=1e-5)


def test_torch_tensors_sharing_storage_share_memory_in_ember(tmp_path):
    base = torch.arange(6.0)
    torch.save({"a": base, "b": base[2:].view(2, 2)}, tmp_path / "v.pt")
    back = ember.load(tmp_path / "v.pt")
    back["a"][3] = 100.0
    assert back["b"].tolist() == [[2.0, 100.0], [4.0, 5.0]]


@pytest.mark.parametrize("what, match", [
    (lambda: {"p": torch.nn.Parameter(torch.ones(2))}, None),
    (lambda: {"b": torch.ones(2, dtype=torch.bfloat16)}, r"bfloat16 data \('torch.BFloat16Storage'\)"),
    (lambda: {"u": torch.ones(2, dtype=torch.uint16)}, r"uint16 data \('torch.uint16'\)"),
    (lambda: {"c": torch.ones(2, dtype=torch.complex64)}, "complex64 data"),
    (lambda: {"dt": torch.bfloat16}, r"bfloat16 data \('torch.bfloat16'\)"),
])
def test_torch_content_ember_cannot_hold_is_named(what, match, tmp_path):
    obj = what()
    if match is None:   # a Parameter with a Python attribute
        obj["p"].note = "x"
        match = r"carries Python attributes \(note\)"
    torch.save(obj, tmp_path / "f.pt")
    with pytest.raises(pickle.UnpicklingError, match=match):
        ember.load(tmp_path / "f.pt")


def test_legacy_torch_format_refused_clearly(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="torch's legacy format"):
        ember.load(tmp_path / "old.pt")


# --------------------------------------------------------------------------- ember.save -> torch.load

def ember_checkpoint():
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    lstm = ember.nn.LSTM(3, 4, num_layers=2)
    opt = ember.optim.Adam(list(model.parameters()) + list(lstm.parameters()))
    x = ember.randn(5, 2, 3)
    (model(x[0]).sum() + lstm(x)[0].sum()).backward()
    opt.step()
    steps = ember.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 5, 5])
    base = ember.arange(12.0).reshape(3, 4)
    same = ember.randn(3)
    return {
        "epoch": 2, "loss": 0.5, "tag": "ember", "nested": [(1, 2.5), {"k": None}], "big": -(2 ** 65),
        "bytes": [b"", b"\x00\xff"], "complex": 1 - 2j,
        "model": model.state_dict(), "lstm": lstm.state_dict(), "optimizer": opt.state_dict(),
        "scheduler": steps.state_dict(),
        "dtypes": {d: (ember.arange(-3, 3) % 3).to(getattr(ember, d)) for d in TORCH_DTYPES},
        "views": {"base": base, "row": base[1], "T": base.t(), "strided": base[:, ::2],
                  "reversed": ember.from_numpy(np.arange(5.0)[::-1])},
        "same": [same, same],
        "parameters": [ember.nn.Parameter(ember.randn(2, 2)), ember.nn.Parameter(ember.ones(2), requires_grad=False)],
        "scalar": ember.tensor(7), "empty": ember.zeros(0, 2), "size": ember.Size([3, 1]),
        "dtype": ember.int16, "device": ember.device("cpu"), "computed": (base * 2).requires_grad_(True),
    }


def test_ember_file_loads_in_torch_weights_only(tmp_path):
    obj = ember_checkpoint()
    path = tmp_path / "ember.pt"
    ember.save(obj, path)
    assert describe(torch.load(path, weights_only=True)) == describe(obj)
    assert describe(torch.load(path, weights_only=True, mmap=True)) == describe(obj)
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    assert describe(torch.load(buf, weights_only=True)) == describe(obj)


def test_ember_archive_has_torchs_records(tmp_path):
    (tmp_path / "e").mkdir()
    (tmp_path / "t").mkdir()
    ember.save({"w": ember.ones(2), "v": ember.zeros(3, dtype=ember.int64)}, tmp_path / "e" / "ck.pth.tar")
    torch.save({"w": torch.ones(2), "v": torch.zeros(3, dtype=torch.int64)}, tmp_path / "t" / "ck.pth.tar")
    with zipfile.ZipFile(tmp_path / "e" / "ck.pth.tar") as e, zipfile.ZipFile(tmp_path / "t" / "ck.pth.tar") as t:
        assert e.namelist() == t.namelist() and e.namelist()[0] == "ck.pth/data.pkl"
        for name in e.namelist():
            if not name.endswith("serialization_id"):
                assert e.read(name) == t.read(name), name
        with open(tmp_path / "e" / "ck.pth.tar", "rb") as f:   # record data aligned as torch aligns it
            for info in e.infolist():
                f.seek(info.header_offset + 26)
                name_len, extra_len = np.frombuffer(f.read(4), "<u2")
                assert (info.header_offset + 30 + name_len + extra_len) % 64 == 0


def test_numpy_values_round_trip_and_load_in_torch_with_numpy_allowed(tmp_path):
    obj = {"a": np.arange(6, dtype=np.int16).reshape(2, 3), "f": np.asfortranarray(np.ones((2, 3))),
           "s": np.float32(1.5), "b": np.array([True, False]), "c": np.array([1 + 2j])}
    ember.save(obj, tmp_path / "n.pt")
    back = ember.load(tmp_path / "n.pt")
    for k, v in obj.items():
        assert type(back[k]) is type(v) and back[k].dtype == v.dtype
        np.testing.assert_array_equal(back[k], v)
    safe = [np._core.multiarray._reconstruct, np._core.multiarray.scalar, np.ndarray, np.dtype,
            *(type(v.dtype) for v in obj.values())]
    with torch.serialization.safe_globals(safe):
        from_torch = torch.load(tmp_path / "n.pt", weights_only=True)
    for k, v in obj.items():
        np.testing.assert_array_equal(from_torch[k], v)


def test_big_endian_file_reads_as_torch_reads_it(tmp_path):
    ember.save({"w": ember.tensor([1.5, -2.0]), "i": ember.tensor([1, 256], dtype=ember.int32)}, tmp_path / "le.pt")
    with zipfile.ZipFile(tmp_path / "le.pt") as src, zipfile.ZipFile(tmp_path / "be.pt", "w") as out:
        dtypes = {"le/data/0": "<f4", "le/data/1": "<i4"}
        for name in src.namelist():
            data = src.read(name)
            if name == "le/byteorder":
                data = b"big"
            elif name in dtypes:
                data = np.frombuffer(data, dtypes[name]).byteswap().tobytes()
            out.writestr(name, data)
    back = ember.load(tmp_path / "be.pt")
    assert back["w"].tolist() == [1.5, -2.0] and back["i"].tolist() == [1, 256]
    t = torch.load(tmp_path / "be.pt", weights_only=True)
    assert t["w"].tolist() == [1.5, -2.0] and t["i"].tolist() == [1, 256]


def test_unseekable_streams():
    class Sink:
        def __init__(self):
            self.parts = []

        def write(self, data):
            self.parts.append(bytes(data))
            return len(data)

        def flush(self):
            pass

    class Source:
        def __init__(self, data):
            self.buf = io.BytesIO(data)

        def read(self, n=-1):
            return self.buf.read(n)

    sink = Sink()
    ember.save({"w": ember.arange(3.0)}, sink)
    data = b"".join(sink.parts)
    assert ember.load(Source(data))["w"].tolist() == [0.0, 1.0, 2.0]
    assert torch.load(io.BytesIO(data), weights_only=True)["w"].tolist() == [0.0, 1.0, 2.0]


def test_saved_location_and_map_location(tmp_path):
    ember.save({"w": ember.ones(2)}, tmp_path / "cpu.pt")
    rewrite(tmp_path / "cpu.pt", tmp_path / "gpu.pt",
            lambda pkl: pkl.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0"))
    for where in ("cpu", {"cuda:0": "cpu"}, lambda storage, loc: storage):
        assert ember.load(tmp_path / "gpu.pt", map_location=where)["w"].device.type == "cpu"
    assert torch.load(tmp_path / "gpu.pt", map_location="cpu", weights_only=True)["w"].tolist() == [1.0, 1.0]
    if not ember.cuda.is_available():
        with pytest.raises(RuntimeError, match="'cuda' backend is not available"):
            ember.load(tmp_path / "gpu.pt")


@pytest.mark.cuda
@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs CuPy and a GPU")
def test_cuda_checkpoint_restores_devices_and_views(tmp_path):
    base = ember.arange(12.0, device="cuda").reshape(3, 4)
    ember.save({"base": base, "T": base.t(), "row": base[1]}, tmp_path / "g.pt")
    back = ember.load(tmp_path / "g.pt")
    assert all(t.device == ember.device("cuda", 0) for t in back.values())
    back["base"][1, 0] = -1.0
    assert back["row"].tolist() == [-1.0, 5.0, 6.0, 7.0] and back["T"][0].tolist() == [0.0, -1.0, 8.0]
    on_cpu = ember.load(tmp_path / "g.pt", map_location="cpu")
    assert on_cpu["T"].device.type == "cpu" and on_cpu["T"].tolist() == base.t().cpu().tolist()
    moved = ember.load(tmp_path / "g.pt", map_location=lambda storage, loc: storage.cuda())
    assert moved["row"].device.type == "cuda"


# --------------------------------------------------------------------------- hostile and broken files

def rewrite(src, dst, edit_pickle=lambda pkl: pkl, drop=()):
    """Copy checkpoint ``src`` to ``dst`` with its pickle edited and some records dropped."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            if name in drop:
                continue
            data = zin.read(name)
            zout.writestr(name, edit_pickle(data) if name.endswith("/data.pkl") else data)


def checkpoint_with_pickle(path, pkl):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
    return path


class Evil:
    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return self.func, (self.arg,)


def evil_pickles(marker):
    """(name of the global the pickle asks for, pickle bytes) that create ``marker`` if run."""
    shell = f"touch {marker}"
    code = f"open({str(marker)!r}, 'w').close()"
    out = []
    for protocol in (0, 2, 4):
        out += [
            ("posix.system", pickle.dumps(Evil(os.system, shell), protocol=protocol)),
            ("builtins.eval", pickle.dumps(Evil(eval, code), protocol=protocol)),
            ("builtins.exec", pickle.dumps({"model": {"w": Evil(exec, code)}}, protocol=protocol)),
        ]
    out += [
        ("os.system", b"\x80\x02cos\nsystem\nX" + len(shell).to_bytes(4, "little") + shell.encode() + b"\x85R."),
        ("os.system", b"(S'" + shell.encode() + b"'\nios\nsystem\n."),   # INST
        ("subprocess.call", b"\x80\x02csubprocess\ncall\n]X" + len(shell).to_bytes(4, "little") + shell.encode()
         + b"a\x85R."),
        ("builtins.getattr", b"\x80\x02c__builtin__\ngetattr\nccollections\nOrderedDict\nX\x06\x00\x00\x00__init"
         b"\x86R."),
    ]
    return out


def test_malicious_pickles_raise_naming_the_global_and_run_nothing(tmp_path):
    marker = tmp_path / "marker"
    for i, (name, pkl) in enumerate(evil_pickles(marker)):
        path = checkpoint_with_pickle(tmp_path / f"evil{i}.pt", pkl)
        with pytest.raises(pickle.UnpicklingError, match=f"refused the global '{name}'"):
            ember.load(path)
        with pytest.raises(pickle.UnpicklingError, match=f"refused the global '{name}'"):
            ember.load(io.BytesIO(path.read_bytes()), weights_only=True)
        assert not marker.exists(), name
    # with pickle_ok the same file runs its code: the marker proves the check can fail
    ember.load(checkpoint_with_pickle(tmp_path / "run.pt", evil_pickles(marker)[1][1]), pickle_ok=True)
    assert marker.exists()


def test_malicious_global_inside_a_real_checkpoint(tmp_path):
    marker = tmp_path / "marker"
    ember.save({"model": {"w": ember.ones(2)}, "epoch": 1}, tmp_path / "ok.pt")
    evil = pickle.dumps(Evil(os.system, f"touch {marker}"), protocol=2)[2:-1]   # without PROTO and STOP
    rewrite(tmp_path / "ok.pt", tmp_path / "evil.pt",
            lambda pkl: pkl.replace(b"K\x01", evil))   # the epoch's int becomes the call
    with pytest.raises(pickle.UnpicklingError, match="refused the global 'posix.system'"):
        ember.load(tmp_path / "evil.pt")
    assert not marker.exists()


# _rebuild_tensor_v2(('storage', torch.FloatStorage, '0', 'cpu', 4), ... : the rest of its arguments follows
LOAD = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
        b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQ")


@pytest.mark.parametrize("pkl, match", [
    (b"\x80\x02ccollections\nOrderedDict\n)\x81.", "opcode NEWOBJ is not allowed"),
    (b"\x80\x02(ccollections\nOrderedDict\no.", "opcode OBJ is not allowed"),
    (b"\x80\x02\x82\x01.", "opcode EXT1 is not allowed"),
    (b"\x80\x02\xff.", "unknown pickle opcode 0xff"),
    (b"\x80\x02ctorch\nfloat32\n)R.", "corrupt.*not callable"),
    (b"\x80\x02ctorch\nfloat32\nK\x01K\x02s.", "SETITEM cannot apply to a dtype"),
    (b"\x80\x02ctorch\nfloat32\n]b.", "cannot restore the state of a dtype"),
    (b"\x80\x02X\x01\x00\x00\x00a]a.", "APPEND cannot apply to a str"),
    (b"\x80\x02(X\x06\x00\x00\x00moduleK\x01tQ.", "only storages may be persistent ids"),
    (b"\x80\x02X\x01\x00\x00\x00xQ.", "only storages may be persistent ids"),
    (b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x05\x00\x00\x00utf-8\x86R.", "bytes of latin-1 text"),
    (b"\x80\x02cnumpy\ndtype\nX\x02\x00\x00\x00O8\x85R.", "only NumPy number and bool dtypes"),
    (b"\x80\x02ctorch\nnn.Linear\n.", "needs torch's 'torch.nn.Linear'"),
    (LOAD + b"K\x00K\x05\x85K\x01\x85\x89)t" + b"R.", "reaches element 4 of a storage of 4"),
    (LOAD + b"J\xff\xff\xff\xffK\x01\x85K\x01\x85\x89)tR.", "bad tensor layout"),
    (LOAD + b"K\x00K\x02K\x02\x86K\x01\x85\x89)tR.", "bad tensor layout"),
    (b"\x80\x02ctorch.storage\nUntypedStorage\n.", None),   # a storage type alone is harmless data
    (b"\x80\x02]q\x00h\x00a.", None),   # a list holding itself
    (b"\x80\x02X\x05\x00\x00\x00abc", "corrupt.*EOFError"),
])
def test_malformed_pickles_raise_clearly(pkl, match, tmp_path):
    ember.save({"w": ember.arange(4.0)}, tmp_path / "ok.pt")
    rewrite(tmp_path / "ok.pt", tmp_path / "bad.pt", lambda _: pkl)
    if match is None:
        ember.load(tmp_path / "bad.pt")
        return
    with pytest.raises(pickle.UnpicklingError, match=match):
        ember.load(tmp_path / "bad.pt")


def test_broken_archives_raise_clearly(tmp_path):
    ember.save({"w": ember.arange(1000.0), "n": {"x": ember.ones(3)}}, tmp_path / "ok.pt")
    data = (tmp_path / "ok.pt").read_bytes()
    cases = {
        "truncated": (data[: len(data) // 2], RuntimeError, "not a readable zip archive"),
        "wrong magic": (b"XK" + data[2:], RuntimeError, "not a checkpoint"),
    }
    rewrite(tmp_path / "ok.pt", tmp_path / "missing.pt", drop={"ok/data/1"})
    cases["missing record"] = ((tmp_path / "missing.pt").read_bytes(), RuntimeError,
                               "no record 'ok/data/1' for a storage")
    rewrite(tmp_path / "ok.pt", tmp_path / "nopkl.pt", drop={"ok/data.pkl"})
    cases["no pickle"] = ((tmp_path / "nopkl.pt").read_bytes(), RuntimeError, "no single '<name>/data.pkl'")
    rewrite(tmp_path / "ok.pt", tmp_path / "short.pt", lambda pkl: pkl.replace(b"M\xe8\x03", b"M\xe9\x03"))
    cases["storage size"] = ((tmp_path / "short.pt").read_bytes(), pickle.UnpicklingError,
                             "holds 4000 bytes, the pickle expects 1001 x 4")
    with zipfile.ZipFile(tmp_path / "ok.pt") as z:
        info = z.getinfo("ok/data/0")
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 100
    flipped = data[:offset] + bytes([data[offset] ^ 1]) + data[offset + 1:]
    cases["bad crc"] = (flipped, RuntimeError, "'ok/data/0' is unreadable.*CRC")
    for name, (content, error, match) in cases.items():
        with pytest.raises(error, match=match):
            ember.load(io.BytesIO(content))


def test_random_damage_never_crashes(tmp_path):
    """Damaged files raise ordinary errors (or load, where the damage hits a value)."""
    ember.save({"w": ember.arange(6.0).reshape(2, 3), "v": [ember.ones(2, dtype=ember.int8), 1.5, "s"],
                "np": np.arange(3)}, tmp_path / "ok.pt")
    data = (tmp_path / "ok.pt").read_bytes()
    with zipfile.ZipFile(tmp_path / "ok.pt") as z:
        pkl = z.read("ok/data.pkl")
    rng = random.Random(0)
    for trial in range(300):
        if trial % 2:   # damage the zip structure
            pos = rng.randrange(len(data))
            damaged = data[:pos] + bytes([rng.randrange(256)]) + data[pos + 1:]
        else:           # damage the pickle, with the archive's checksums right
            pos = rng.randrange(len(pkl))
            edit = (lambda p, pos=pos: p[:pos] + bytes([rng.randrange(256)]) + p[pos + 1:]) if trial % 4 \
                else (lambda p, pos=pos: p[:pos])
            rewrite(tmp_path / "ok.pt", tmp_path / "d.pt", edit)
            damaged = (tmp_path / "d.pt").read_bytes()
        try:
            ember.load(io.BytesIO(damaged))
        except (RuntimeError, pickle.UnpicklingError):
            pass
