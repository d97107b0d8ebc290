"""ember.utils.data.DistributedSampler against torch's: the same index sequence on every
rank for every length, replica count, shuffle, seed, epoch and drop_last; torch's errors."""

import itertools

import pytest

import ember
from ember.utils.data.distributed import DistributedSampler, torch_randperm
from tests.oracle import same_outcome, torch

TD = torch.utils.data


def test_module_paths():
    assert ember.utils.data.DistributedSampler is DistributedSampler
    assert issubclass(DistributedSampler, ember.utils.data.Sampler)


@pytest.mark.parametrize("n, seed", [(0, 0), (1, 3), (2, 0), (10, 5), (1000, 0), (37, 123456789),
                                     (5, 2**40 + 3), (9, -7)])
def test_torch_randperm_is_torchs(n, seed):
    g = torch.Generator()
    g.manual_seed(seed % 2**64)
    assert torch_randperm(n, seed) == torch.randperm(n, generator=g).tolist()


@pytest.mark.parametrize("length, replicas, shuffle, drop_last", list(itertools.product(
    [0, 1, 5, 10, 17, 101], [1, 2, 3, 4], [True, False], [True, False])))
def test_same_indices_as_torch_on_every_rank(length, replicas, shuffle, drop_last):
    data = range(length)
    shares = []
    for rank in range(replicas):
        for seed, epoch in [(0, 0), (42, 3)]:
            ours = DistributedSampler(data, replicas, rank, shuffle, seed, drop_last)
            theirs = TD.DistributedSampler(data, replicas, rank, shuffle, seed, drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs)
            assert len(ours) == len(theirs) == len(list(ours))
        shares.append(list(DistributedSampler(data, replicas, rank, shuffle, 0, drop_last)))
    covered = set(itertools.chain.from_iterable(shares))
    assert covered == set(data) if not drop_last else covered <= set(data)


def test_epochs_shuffle_differently_and_reproducibly():
    sampler = DistributedSampler(range(50), num_replicas=2, rank=0)
    first = list(sampler)
    assert list(sampler) == first
    sampler.set_epoch(1)
    assert list(sampler) != first


def test_feeds_a_dataloader():
    data = ember.utils.data.TensorDataset(ember.arange(10.0))
    loader = ember.utils.data.DataLoader(data, batch_size=2, sampler=DistributedSampler(data, 2, 1, shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1.0, 3.0], [5.0, 7.0], [9.0]]


@pytest.mark.parametrize("replicas, rank", [(2, 2), (2, -1), (1, 5)])
def test_bad_rank_is_torchs_error(replicas, rank):
    same_outcome(lambda L: L.utils.data.DistributedSampler(range(4), replicas, rank))


def test_without_a_process_group_is_torchs_error():
    with pytest.raises((RuntimeError, ValueError), match="process group|distributed"):
        DistributedSampler(range(4))
