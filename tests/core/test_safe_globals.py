"""ember.serialization's safe globals (torch 2.13's add_safe_globals, get_safe_globals,
clear_safe_globals and the safe_globals context manager): the list itself, and a
weights-only ember.load that refuses a checkpoint naming a user class until the class
is marked safe, as torch.load(weights_only=True) does, without opening any other door."""

import io
import os
import pickle
import zipfile

import pytest

import ember
from ember import serialization

torch = pytest.importorskip("torch")


class Config:
    """A plain object in a checkpoint: created by NEWOBJ, filled by BUILD."""

    def __init__(self, lr, scale):
        self.lr, self.scale = lr, scale


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a, self.b = a, b


class Stateful:
    def __init__(self, n):
        self.n = n

    def __getstate__(self):
        return {"twice": 2 * self.n}

    def __setstate__(self, state):
        self.n = state["twice"] // 2


class Pair:
    """Pickled as a call of the class itself (REDUCE)."""

    def __init__(self, a, b):
        self.a, self.b = a, b

    def __reduce__(self):
        return Pair, (self.a, self.b)


class Runner:
    """A marked class whose instances are callable: a file must not call them."""

    calls = []

    def __call__(self, *args):
        Runner.calls.append(args)


def make_pair(a, b):
    return Pair(a, b)


@pytest.fixture(autouse=True)
def _fresh_lists():
    serialization.clear_safe_globals()
    torch.serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()
    torch.serialization.clear_safe_globals()


def _torch_checkpoint(tmp_path, obj, name="ckpt.pt"):
    path = tmp_path / name
    torch.save(obj, path)
    return path


def test_the_list_itself():
    assert serialization.get_safe_globals() == []
    serialization.add_safe_globals([Config, (make_pair, "somewhere.make_pair")])
    serialization.add_safe_globals([Config])
    assert set(serialization.get_safe_globals()) == {Config, (make_pair, "somewhere.make_pair")}
    assert serialization.clear_safe_globals() is None
    assert serialization.get_safe_globals() == []


@pytest.mark.parametrize("bad, error, match", [
    ([(Config,)], ValueError, "tuple of length 2.*length: 1"),
    ([(Config, "a", "b")], ValueError, "length: 3"),
    ([(Config, 3)], TypeError, "second item in tuple to be str"),
    (Config, TypeError, "as a list"),
    ("tests.Config", TypeError, "as a list"),
    ([3], TypeError, "class or a function"),
])
def test_bad_entries_are_refused_at_once(bad, error, match):
    with pytest.raises(error, match=match):
        serialization.add_safe_globals(bad)
    with pytest.raises(error, match=match):
        serialization.safe_globals(bad)
    assert serialization.get_safe_globals() == []


def test_context_manager_restores_the_previous_state():
    serialization.add_safe_globals([Config])
    with serialization.safe_globals([Config, Pair]):
        assert set(serialization.get_safe_globals()) == {Config, Pair}
    assert serialization.get_safe_globals() == [Config]   # Config was marked before: it stays
    with pytest.raises(KeyError), serialization.safe_globals([Slotted]):
        assert Slotted in serialization.get_safe_globals()
        raise KeyError("leaving by an error unmarks too")
    assert serialization.get_safe_globals() == [Config]


def test_a_user_class_is_refused_then_loaded_as_torch_does(tmp_path):
    obj = {"cfg": Config(0.1, torch.arange(3.0)), "w": torch.ones(2)}
    path = _torch_checkpoint(tmp_path, obj)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    with pytest.raises(pickle.UnpicklingError,
                       match=f"refused the global '{__name__}.Config'.*add_safe_globals"):
        ember.load(path)

    torch.serialization.add_safe_globals([Config])
    serialization.add_safe_globals([Config])
    t_back, e_back = torch.load(path, weights_only=True), ember.load(path)
    assert type(e_back["cfg"]) is Config and type(t_back["cfg"]) is Config
    assert e_back["cfg"].lr == t_back["cfg"].lr == 0.1
    assert isinstance(e_back["cfg"].scale, ember.Tensor) and e_back["cfg"].scale.tolist() == [0.0, 1.0, 2.0]
    assert e_back["w"].tolist() == [1.0, 1.0]


def test_the_context_manager_loads_then_refuses_again(tmp_path):
    path = _torch_checkpoint(tmp_path, [Config(1, 2)])
    with serialization.safe_globals([Config]):
        assert ember.load(path)[0].scale == 2
    with pytest.raises(pickle.UnpicklingError, match="refused the global"):
        ember.load(path)


@pytest.mark.parametrize("obj, check", [
    (Slotted(1, ember.ones(2)), lambda b: b.a == 1 and b.b.tolist() == [1.0, 1.0]),
    (Stateful(21), lambda b: b.n == 21),
    (Pair(1, "x"), lambda b: (b.a, b.b) == (1, "x")),
])
def test_state_setstate_slots_and_reduce(obj, check, tmp_path):
    path = tmp_path / "p.pt"
    ember.save({"o": obj}, path, pickle_ok=True)
    with pytest.raises(pickle.UnpicklingError, match="refused the global"):
        ember.load(path)
    with serialization.safe_globals([type(obj)]):
        back = ember.load(path, weights_only=True)["o"]
    assert type(back) is type(obj) and check(back)


def test_a_global_under_another_name(tmp_path):
    path = tmp_path / "p.pt"
    ember.save({"o": Pair(3, 4)}, path, pickle_ok=True)
    # the file names the class by its module path; a pair maps that name to any global
    with serialization.safe_globals([(make_pair, f"{__name__}.Pair")]):
        back = ember.load(path)["o"]
    assert (back.a, back.b) == (3, 4)


def _checkpoint_with_pickle(tmp_path, pkl):
    """ember's own checkpoint of a small dict, its pickle replaced by ``pkl``."""
    good, bad = tmp_path / "good.pt", tmp_path / "bad.pt"
    ember.save({"w": ember.ones(1)}, good)
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, pkl if item.filename.endswith("data.pkl") else data)
    return bad


def test_marking_one_class_opens_no_other_door(tmp_path):
    marker = tmp_path / "marker"
    mod = __name__.encode()
    # NEWOBJ of a marked callable class, then REDUCE on the instance: the file tries to call it
    call_instance = b"\x80\x02c" + mod + b"\nRunner\n)\x81K\x01\x85R."
    # a marked class does not let BUILD fill a type that is not marked
    build_other = b"\x80\x02c__builtin__\nset\n)R}b."
    # nor NEWOBJ create one
    newobj_other = b"\x80\x02ccollections\nOrderedDict\n)\x81."
    evil = pickle.dumps({"x": _Evil(f"touch {marker}")}, protocol=2)
    with serialization.safe_globals([Runner, Config]):
        for pkl, match in [(call_instance, "REDUCE may call only a global"),
                           (newobj_other, "NEWOBJ is not allowed.*except on a class marked safe"),
                           (build_other, "cannot restore the state of a set"),
                           (evil, "refused the global 'posix.system'")]:
            with pytest.raises(pickle.UnpicklingError, match=match):
                ember.load(_checkpoint_with_pickle(tmp_path, pkl))
    assert Runner.calls == [] and not marker.exists()
    # the check can fail: a trusting load runs the same file's code
    ember.load(_checkpoint_with_pickle(tmp_path, evil), pickle_ok=True)
    assert marker.exists()


class _Evil:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_marked_functions_may_be_called(tmp_path):
    pkl = b"\x80\x02c" + __name__.encode() + b"\nmake_pair\nK\x01K\x02\x86R."
    path = _checkpoint_with_pickle(tmp_path, pkl)
    with pytest.raises(pickle.UnpicklingError, match="refused the global"):
        ember.load(path)
    serialization.add_safe_globals([make_pair])
    back = ember.load(io.BytesIO(path.read_bytes()))
    assert (back.a, back.b) == (1, 2)
