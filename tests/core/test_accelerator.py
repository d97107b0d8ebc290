"""ember.accelerator: without a GPU it answers as torch 2.13's CPU build does; with
a stand-in cuda backend (two "GPUs") it reports the accelerator, checks device
arguments as torch does, synchronises the device asked for, and the DataLoader
pins its batches through it."""

import warnings

import pytest

import ember
from ember import accelerator
from ember.backend import REGISTRY
from tests.core.fake_gpus import FakeGPUs

torch = pytest.importorskip("torch")


def _outcome(call):
    try:
        return ("value", call())
    except Exception as error:  # noqa: BLE001 - an error is an outcome
        return (type(error), str(error).replace("a torch.", "an ember.").replace("torch.", "ember."))


@pytest.mark.parametrize("call", [
    lambda a: a.is_available(),
    lambda a: a.current_accelerator(),
    lambda a: a.current_accelerator(check_available=True),
    lambda a: a.device_count(),
    lambda a: a.current_device_index(),
    lambda a: a.set_device_index(0),
    lambda a: a.set_device_index(-1),
    lambda a: a.set_device_index("cuda:0"),
    lambda a: a.set_device_index(None),
    lambda a: a.synchronize(),
    lambda a: a.synchronize("cuda"),
    lambda a: a.synchronize(0),
], ids=["is_available", "current", "current-checked", "count", "index", "set-0", "set-negative",
        "set-str", "set-none", "sync", "sync-str", "sync-int"])
def test_without_an_accelerator_as_torchs_cpu_build(call, no_gpu):
    assert torch.accelerator.current_accelerator() is None, "the oracle needs torch's CPU build"
    assert _outcome(lambda: call(accelerator)) == _outcome(lambda: call(torch.accelerator))


def test_device_index_context_without_an_accelerator(no_gpu):
    with accelerator.device_index(None):   # no switch asked: nothing to check
        pass
    with pytest.raises(RuntimeError, match="none is available"), accelerator.device_index(0):
        pass


def test_this_machines_answers_agree_with_ember_cuda():
    assert accelerator.is_available() == ember.cuda.is_available()
    assert accelerator.device_count() == (ember.cuda.device_count() if ember.cuda.is_available() else 0)
    expected = ember.device("cuda") if ember.cuda.is_available() else None
    assert accelerator.current_accelerator() == expected


def test_with_gpus(gpus):
    acc = accelerator.current_accelerator()
    assert isinstance(acc, ember.device) and acc.type == "cuda" and acc.index is None
    assert accelerator.current_accelerator(check_available=True) == acc
    assert accelerator.is_available() and accelerator.device_count() == 2
    assert accelerator.current_device_index() == 0
    for same in (0, "cuda:0", ember.device("cuda", 0), -1):
        accelerator.set_device_index(same)
    accelerator.synchronize()
    accelerator.synchronize("cuda:1")
    accelerator.synchronize(ember.device("cuda"))
    accelerator.synchronize(1)
    assert gpus.synced == [0, 1, 0, 1]


def test_device_arguments_are_checked(gpus):
    with pytest.raises(ValueError, match="cpu doesn't match the current accelerator cuda"):
        accelerator.set_device_index("cpu")
    with pytest.raises(ValueError, match="cpu doesn't match"):
        accelerator.synchronize(ember.device("cpu"))
    with pytest.raises(ValueError, match="with a specified index or an integer, but got:cuda"):
        accelerator.set_device_index("cuda")
    with pytest.raises(RuntimeError, match="invalid device index 2: ember.cuda sees 2 device"):
        accelerator.set_device_index(2)
    with pytest.raises(TypeError, match="float"):
        accelerator.synchronize(1.5)
    assert gpus.synced == []


def test_the_current_device_is_ember_cudas(gpus):
    accelerator.set_device_index("cuda:1")
    assert accelerator.current_device_index() == ember.cuda.current_device() == gpus.current == 1
    assert ember.zeros(1, device="cuda").device == ember.device("cuda", 1)
    with accelerator.device_index(0):
        assert accelerator.current_device_index() == 0
        with accelerator.device_index(None):
            assert accelerator.current_device_index() == 0
    assert accelerator.current_device_index() == 1
    with pytest.raises(KeyError), accelerator.device_index(0):
        raise KeyError("the block fails")
    assert accelerator.current_device_index() == 1


def test_deprecated_names_warn_and_work(gpus):
    with pytest.warns(FutureWarning, match="Use `current_device_index` instead"):
        assert accelerator.current_device_idx() == 0
    with pytest.warns(FutureWarning, match="Use `set_device_index` instead"):
        accelerator.set_device_idx(0)
    assert accelerator.set_device_idx.__name__ == "set_device_idx"


def test_dataloader_pins_only_with_an_accelerator(monkeypatch):
    data = [ember.ones(2) for _ in range(4)]
    monkeypatch.setitem(REGISTRY.backends, "cuda", FakeGPUs(available=False))
    loader = ember.utils.data.DataLoader(data, batch_size=2, pin_memory=True)
    with pytest.warns(UserWarning, match="no accelerator is found"):
        batches = list(loader)
    assert not any(b.is_pinned() for b in batches)
    monkeypatch.setitem(REGISTRY.backends, "cuda", FakeGPUs())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # a machine that may not lock memory says so
        batches = list(loader)
    assert len(batches) == 2 and all(b.shape == (2, 2) for b in batches)
    assert all(b.is_pinned() for b in batches) or not ember.ones(1).pin_memory().is_pinned()
