"""ember.utils.data.sampler against torch.utils.data.sampler: the same index sequences
for the deterministic samplers, sound random ones, the DataLoader's sampler options, and
torch's errors."""

import numpy as np
import pytest

import ember
from ember.utils.data import sampler as ES
from tests.oracle import same_outcome, torch

TS = torch.utils.data.sampler
ED, TD = ember.utils.data, torch.utils.data


def test_module_paths():
    from ember.utils.data.sampler import BatchSampler, Sampler  # noqa: F401
    from ember.utils.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split  # noqa: F401
    from ember.utils.data.dataloader import DataLoader, default_collate  # noqa: F401

    for name in ES.__all__:
        assert getattr(ED, name) is getattr(ES, name) and hasattr(TS, name)
        assert issubclass(getattr(ES, name), ES.Sampler)


@pytest.mark.parametrize("n", [0, 1, 7])
def test_sequential_sampler_matches_torch(n):
    data = list(range(n))
    assert list(ES.SequentialSampler(data)) == list(TS.SequentialSampler(data))
    assert len(ES.SequentialSampler(data)) == n


@pytest.mark.parametrize("n,batch_size,drop_last", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False),
                                                    (2, 5, True), (0, 2, False), (7, 1, False)])
def test_batch_sampler_matches_torch(n, batch_size, drop_last):
    ours = ES.BatchSampler(ES.SequentialSampler(range(n)), batch_size, drop_last)
    theirs = TS.BatchSampler(TS.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    # any iterable of indices will do
    assert list(ES.BatchSampler([5, 1, 4, 2], 3, drop_last)) == list(TS.BatchSampler([5, 1, 4, 2], 3, drop_last))


def test_random_sampler_is_a_fresh_permutation_each_pass():
    s = ES.RandomSampler(range(50))
    first, second = list(s), list(s)
    assert sorted(first) == sorted(second) == list(range(50)) and len(s) == 50
    assert first != second and first != list(range(50))


def test_random_sampler_num_samples_and_replacement():
    s = ES.RandomSampler(range(4), num_samples=10)
    draws = list(s)
    assert len(draws) == len(s) == 10
    assert sorted(draws[:4]) == sorted(draws[4:8]) == [0, 1, 2, 3] and set(draws[8:]) <= {0, 1, 2, 3}
    r = list(ES.RandomSampler(range(3), replacement=True, num_samples=3000))
    assert set(r) == {0, 1, 2} and all(900 < r.count(i) < 1100 for i in range(3))


def test_random_samplers_are_reproducible_with_manual_seed():
    def draw():
        return (list(ES.RandomSampler(range(20))), list(ES.SubsetRandomSampler([3, 9, 4, 7])),
                list(ES.WeightedRandomSampler([0.1, 0.5, 2.0], 8)),
                list(ES.RandomSampler(range(5), replacement=True, num_samples=9)))

    ember.manual_seed(5)
    first = draw()
    ember.manual_seed(5)
    assert draw() == first
    gen = lambda: np.random.default_rng(3)  # noqa: E731
    assert list(ES.RandomSampler(range(20), generator=gen())) == list(ES.RandomSampler(range(20), generator=gen()))


def test_subset_random_sampler():
    s = ES.SubsetRandomSampler([10, 20, 30, 40, 50])
    seen = [tuple(s) for _ in range(10)]
    assert all(sorted(p) == [10, 20, 30, 40, 50] for p in seen) and len(set(seen)) > 1 and len(s) == 5


def test_weighted_sampler_frequencies():
    ember.manual_seed(0)
    weights = [1.0, 3.0, 0.0, 6.0]
    draws = np.array(list(ES.WeightedRandomSampler(weights, 20000)))
    freq = np.bincount(draws, minlength=4) / draws.size
    np.testing.assert_allclose(freq, [0.1, 0.3, 0.0, 0.6], atol=0.015)
    no_repeat = list(ES.WeightedRandomSampler(ember.tensor([1.0, 3.0, 0.0, 6.0]), 3, replacement=False))
    assert sorted(no_repeat) == [0, 1, 3]
    s = ES.WeightedRandomSampler(weights, 5)
    assert len(s) == 5 and s.weights.dtype == ember.float64


SAMPLER_ERRORS = {
    "random replacement not bool": lambda m: m.RandomSampler(range(3), replacement=1),
    "random empty dataset": lambda m: m.RandomSampler([]),
    "random num_samples zero": lambda m: m.RandomSampler(range(3), num_samples=0),
    "random num_samples float": lambda m: m.RandomSampler(range(3), num_samples=2.5),
    "weighted num_samples zero": lambda m: m.WeightedRandomSampler([1.0, 2.0], 0),
    "weighted num_samples bool": lambda m: m.WeightedRandomSampler([1.0, 2.0], True),
    "weighted replacement not bool": lambda m: m.WeightedRandomSampler([1.0, 2.0], 2, replacement=0),
    "weighted 2-d": lambda m: m.WeightedRandomSampler([[1.0, 2.0]], 2),
    "weighted negative": lambda m: m.WeightedRandomSampler([1.0, -1.0], 3),
    "weighted nan": lambda m: m.WeightedRandomSampler([1.0, float("nan")], 3),
    "weighted infinite": lambda m: m.WeightedRandomSampler([1.0, float("inf")], 3),
    "weighted all zero": lambda m: m.WeightedRandomSampler([0.0, 0.0], 2),
    "weighted too many without replacement": lambda m: m.WeightedRandomSampler([1.0, 1.0], 3, replacement=False),
    "batch size zero": lambda m: m.BatchSampler(range(3), 0, False),
    "batch size float": lambda m: m.BatchSampler(range(3), 2.0, False),
    "drop_last not bool": lambda m: m.BatchSampler(range(3), 2, 1),
}


@pytest.mark.parametrize("name", sorted(SAMPLER_ERRORS))
def test_sampler_errors_match_torch(name):
    build = SAMPLER_ERRORS[name]
    same_outcome(lambda: list(build(ES)), (), lambda: list(build(TS)), raises=True, exact_type=True, message=True)


def test_errors_where_torch_is_silent_or_vague():
    with pytest.raises(RuntimeError, match="only 1 weights are non-zero, fewer than num_samples=2"):
        list(ES.WeightedRandomSampler([1.0, 0.0, 0.0], 2, replacement=False))  # torch draws a zero weight
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=True"):
        ES.RandomSampler(range(3), num_samples=True)  # torch accepts True as 1
    with pytest.raises(ValueError, match="cannot draw from an empty data_source"):
        list(ES.RandomSampler([], replacement=True, num_samples=2))
    with pytest.raises(TypeError, match="generator must be an ember.Generator .*, not int"):
        list(ES.RandomSampler(range(3), generator=123))


# ---------------------------------------------------------------- DataLoader options
def _datasets(n=10):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return ED.TensorDataset(ember.tensor(x)), TD.TensorDataset(torch.tensor(x))


def _values(loader):
    return [b[0].numpy().tolist() for b in loader]


@pytest.mark.parametrize("kwargs", [
    dict(batch_size=3, sampler=[9, 0, 4, 4, 2]),
    dict(batch_size=2, sampler="sequential", drop_last=True),
    dict(batch_sampler=[[1, 2], [0], [9, 8, 7]]),
    dict(batch_sampler="batch"),
    dict(batch_size=None, sampler=[3, 1]),
])
def test_dataloader_with_sampler_or_batch_sampler_matches_torch(kwargs):
    e_data, t_data = _datasets()

    def options(mod):
        out = dict(kwargs)
        if out.get("sampler") == "sequential":
            out["sampler"] = mod.SequentialSampler(range(10))
        if out.get("batch_sampler") == "batch":
            out["batch_sampler"] = mod.BatchSampler(mod.SequentialSampler(range(10)), 4, False)
        return out

    ours, theirs = ED.DataLoader(e_data, **options(ES)), TD.DataLoader(t_data, **options(TS))
    assert len(ours) == len(theirs)
    if kwargs.get("batch_size", 1) is None:
        assert [s[0].numpy().tolist() for s in ours] == [s[0].numpy().tolist() for s in theirs]
    else:
        assert _values(ours) == _values(theirs)


def test_shuffle_uses_a_random_sampler():
    e_data, _ = _datasets(20)
    loader = ED.DataLoader(e_data, batch_size=5, shuffle=True)
    assert isinstance(loader.sampler, ES.RandomSampler) and isinstance(loader.batch_sampler, ES.BatchSampler)
    assert isinstance(ED.DataLoader(e_data).sampler, ES.SequentialSampler)
    ember.manual_seed(2)
    first = _values(loader)
    ember.manual_seed(2)
    expected = ES.RandomSampler(range(20))
    order = list(expected)
    assert sum(first, []) == [[2.0 * i, 2.0 * i + 1] for i in order]
    custom = ED.DataLoader(e_data, batch_size=5, shuffle=True, generator=np.random.default_rng(1))
    again = ED.DataLoader(e_data, batch_size=5, shuffle=True, generator=np.random.default_rng(1))
    assert _values(custom) == _values(again)


@pytest.mark.parametrize("kwargs", [
    dict(sampler=[0, 1], shuffle=True),
    dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True),
])
def test_dataloader_mutually_exclusive_options_raise_like_torch(kwargs):
    e_data, t_data = _datasets()
    with pytest.raises(ValueError) as theirs:
        TD.DataLoader(t_data, **kwargs)
    with pytest.raises(ValueError) as ours:
        ED.DataLoader(e_data, **kwargs)
    assert str(ours.value) == str(theirs.value)
