"""ember.utils.data against torch.utils.data: the same batches, lengths and errors."""

import collections

import numpy as np
import pytest

import ember
from tests.oracle import as_numpy, torch

ED, TD = ember.utils.data, torch.utils.data


def _batches(loader):
    return [[as_numpy(t).tolist() for t in batch] for batch in loader]


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (4, False), (4, True), (10, False), (32, True)])
def test_unshuffled_batches_match_torch(batch_size, drop_last):
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10)
    e = ED.DataLoader(ED.TensorDataset(ember.tensor(x), ember.tensor(y)), batch_size=batch_size, drop_last=drop_last)
    t = TD.DataLoader(TD.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=batch_size, drop_last=drop_last)
    assert len(e) == len(t)
    assert _batches(e) == _batches(t)


def test_shuffle_is_a_reproducible_permutation():
    data = ED.TensorDataset(ember.arange(20))
    ember.manual_seed(3)
    first = [b[0].tolist() for b in ED.DataLoader(data, batch_size=6, shuffle=True)]
    ember.manual_seed(3)
    again = [b[0].tolist() for b in ED.DataLoader(data, batch_size=6, shuffle=True)]
    assert first == again
    assert sorted(sum(first, [])) == list(range(20)) and sum(first, []) != list(range(20))


@pytest.mark.parametrize("samples", [
    [1, 2, 3], [1.5, 2.5], [True, False], [(1, 2.0), (3, 4.0)], [[1, 2], [3, 4]],
    [{"a": 1, "b": 0.5}, {"a": 2, "b": 1.5}], [np.ones(2, np.float32), np.zeros(2, np.float32)],
])
def test_default_collate_matches_torch(samples):
    def flat(x):
        if isinstance(x, dict):
            return {k: flat(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [type(x).__name__] + [flat(v) for v in x]
        return (as_numpy(x).tolist(), str(x.dtype).split(".")[-1])

    assert flat(ED.default_collate(samples)) == flat(TD.default_collate(samples))


def test_namedtuple_tensors_and_none_batch_size():
    Point = collections.namedtuple("Point", "x y")
    out = ED.default_collate([Point(ember.tensor(1.0), 2), Point(ember.tensor(3.0), 4)])
    assert isinstance(out, Point) and out.x.tolist() == [1.0, 3.0] and out.y.tolist() == [2, 4]
    loader = ED.DataLoader(ED.TensorDataset(ember.arange(3)), batch_size=None)
    assert [s[0].item() for s in loader] == [0, 1, 2] and len(loader) == 3


def test_random_split_and_subsets():
    data = ED.TensorDataset(ember.arange(10))
    parts = ED.random_split(data, [3, 7])
    assert [len(p) for p in parts] == [3, 7]
    seen = sorted(p[i][0].item() for p in parts for i in range(len(p)))
    assert seen == list(range(10))
    assert [len(p) for p in ED.random_split(data, [0.5, 0.5])] == [5, 5]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        ED.random_split(data, [3, 3])


def test_concat_dataset_indexing_matches_torch():
    e = ED.ConcatDataset([ED.TensorDataset(ember.arange(3)), ED.TensorDataset(ember.arange(10, 14))])
    t = TD.ConcatDataset([TD.TensorDataset(torch.arange(3)), TD.TensorDataset(torch.arange(10, 14))])
    assert len(e) == len(t) == 7
    assert [e[i][0].item() for i in range(-7, 7)] == [t[i][0].item() for i in range(-7, 7)]


def test_bad_arguments_raise_like_torch():
    data = ED.TensorDataset(ember.arange(4))
    for kwargs in (dict(batch_size=0), dict(batch_size=-1), dict(num_workers=-1)):
        with pytest.raises(ValueError):
            ED.DataLoader(data, **kwargs)
        with pytest.raises(ValueError):
            TD.DataLoader(TD.TensorDataset(torch.arange(4)), **kwargs)
    with pytest.raises(AssertionError, match="Size mismatch"):
        ED.TensorDataset(ember.zeros(3), ember.zeros(4))
