"""``ember.utils.data.distributed``: ``DistributedSampler``, which gives each process of a
distributed job its own share of a dataset."""

import math

import numpy as np

from .sampler import Sampler, _flag

__all__ = ["DistributedSampler"]

#: From this length on, torch's ``randperm`` switches to another algorithm (one that
#: draws 64-bit numbers); below it, :func:`torch_randperm` gives torch's permutation.
_TORCH_SMALL_RANDPERM = (2**32 - 1) // 20


def torch_randperm(n, seed):
    """The permutation of ``range(n)`` that torch's ``randperm(n, generator=g)`` gives on
    the CPU after ``g.manual_seed(seed)``, as a list.

    torch's CPU generator is a Mersenne Twister seeded with the seed's low 32 bits, as
    NumPy's legacy ``RandomState`` is; randperm swaps position ``i`` with ``i + r % (n - i)``
    for each 32-bit draw ``r``. From ``_TORCH_SMALL_RANDPERM`` on, torch changes algorithm
    and this gives another (still deterministic) permutation.
    """
    draws = np.random.RandomState(seed & 0xFFFFFFFF).randint(0, 2**32, size=max(n - 1, 0), dtype=np.uint32)
    offsets = (draws.astype(np.uint64) % np.arange(n, 1, -1, dtype=np.uint64)).tolist()
    order = list(range(n))
    for i, offset in enumerate(offsets):
        j = i + offset
        order[i], order[j] = order[j], order[i]
    return order


def _from_process_group(what):
    from ... import distributed as dist

    if not dist.is_available():
        raise RuntimeError("Requires distributed package to be available")
    return dist.get_world_size() if what == "num_replicas" else dist.get_rank()


class DistributedSampler(Sampler):
    """Restricts loading to this process's share of ``dataset``, for training with
    ``DistributedDataParallel``: each of the ``num_replicas`` processes takes every
    ``num_replicas``-th index of one common order, starting at its ``rank``.

    The order is the same permutation as torch's (seeded with ``seed + epoch``) when
    ``shuffle``, else ``0 .. len - 1``. Unless ``drop_last``, it is padded with its own
    first indices up to a multiple of ``num_replicas``, so every process sees the same
    number of samples; with ``drop_last`` the tail is cut instead. Call
    :meth:`set_epoch` at the start of each epoch to get a new order each time.

    Args:
        dataset: the dataset (only its length is used).
        num_replicas: number of processes (default: the default group's world size).
        rank: this process's rank among them (default: the default group's rank).
        shuffle: shuffle the indices (default True).
        seed: the shuffling seed, the same on every process (default 0).
        drop_last: drop the tail instead of padding (default False).

    Example:
        >>> sampler = ember.utils.data.DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
        >>> list(sampler)
        [1, 4, 7, 0]
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None:
            num_replicas = _from_process_group("num_replicas")
        if rank is None:
            rank = _from_process_group("rank")
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, int) or num_replicas <= 0:
            raise ValueError(f"num_replicas should be a positive integer value, but got num_replicas={num_replicas}")
        if isinstance(rank, bool) or not isinstance(rank, int):
            raise TypeError(f"rank should be an integer, but got {type(rank).__name__}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        _flag("drop_last", drop_last, ValueError)
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        length = len(dataset)
        if drop_last and length % num_replicas:
            self.num_samples = math.ceil((length - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(length / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        length = len(self.dataset)
        order = torch_randperm(length, self.seed + self.epoch) if self.shuffle else list(range(length))
        if self.drop_last:
            order = order[:self.total_size]
        elif order:
            missing = self.total_size - length
            order += (order * math.ceil(missing / length))[:missing]
        return iter(order[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use ``epoch`` in the seed of the next order, so that each epoch shuffles
        differently (and every process the same way)."""
        self.epoch = epoch
