"""``ember.utils.data.sampler``: the orders in which a ``DataLoader`` visits a dataset.

A sampler is an iterable of dataset indices (or, for ``BatchSampler``, of lists of
indices). The random ones draw from ember's generator (``ember.manual_seed`` makes
them reproducible) unless given an ``ember.Generator`` (or a NumPy ``Generator``) of
their own.
"""

import itertools
import math

import numpy as np

from ..._tensor import Tensor
from ._rng import numpy_generator

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]


def _positive_int(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value}")


def _flag(name, value, error):
    if not isinstance(value, bool):
        raise error(f"{name} should be a boolean value, but got {name}={value}")


class Sampler:
    """Base class of samplers: subclasses define ``__iter__`` (the indices, in order)
    and usually ``__len__`` (how many it yields)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Indices ``0 .. len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices of ``data_source`` in random order.

    Args:
        data_source: the dataset (anything with ``len``).
        replacement: draw each index independently (True) instead of shuffling (default).
        num_samples: how many indices to yield (default ``len(data_source)``); without
            replacement, more than the dataset size yields several shuffles in a row.
        generator: an ``ember.Generator`` (or a NumPy ``Generator``) to draw from (default: ember's).
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _flag("replacement", replacement, TypeError)
        _positive_int("num_samples", self.num_samples)

    @property
    def num_samples(self):
        """The number of indices one pass yields."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        rng = numpy_generator(self.generator)
        if self.replacement:
            if n == 0:
                raise ValueError("RandomSampler with replacement cannot draw from an empty data_source")
            yield from rng.integers(0, n, size=self.num_samples).tolist()
            return
        full, rest = divmod(self.num_samples, n)
        for _ in range(full):
            yield from rng.permutation(n).tolist()
        yield from rng.permutation(n).tolist()[:rest]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices``, shuffled anew at every pass.

    Args:
        indices: a sequence of dataset indices.
        generator: an ``ember.Generator`` (or a NumPy ``Generator``) to draw from (default: ember's).
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in numpy_generator(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Indices ``0 .. len(weights) - 1`` drawn with probabilities proportional to ``weights``.

    Args:
        weights: a 1-d sequence (or tensor) of non-negative weights, not necessarily
            summing to one.
        num_samples: how many indices to draw.
        replacement: draw independently (default); with False, no index comes twice.
        generator: an ``ember.Generator`` (or a NumPy ``Generator``) to draw from (default: ember's).
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _positive_int("num_samples", num_samples)
        _flag("replacement", replacement, ValueError)
        from ..._creation import tensor

        values = weights.detach().cpu().numpy() if isinstance(weights, Tensor) else weights
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {values.shape}")
        self.weights = tensor(values, dtype="float64")
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def _probabilities(self):
        w = self.weights.numpy()
        if np.isnan(w).any() or (w < 0).any():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        if np.isinf(w).any():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry = "
                               "infinity or NaN)")
        total = w.sum()
        if not total > 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not self.replacement:
            if self.num_samples > w.size:
                raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
            if self.num_samples > np.count_nonzero(w):
                raise RuntimeError(
                    f"invalid multinomial distribution (with replacement=False, only "
                    f"{np.count_nonzero(w)} weights are non-zero, fewer than num_samples={self.num_samples})")
        return w / total

    def __iter__(self):
        p = self._probabilities()
        draws = numpy_generator(self.generator).choice(p.size, size=self.num_samples,
                                                       replace=self.replacement, p=p)
        yield from draws.tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    Args:
        sampler: a sampler or any iterable of indices.
        batch_size: indices per batch.
        drop_last: drop the last batch when it is shorter than ``batch_size``.
    """

    def __init__(self, sampler, batch_size, drop_last):
        _positive_int("batch_size", batch_size)
        _flag("drop_last", drop_last, ValueError)
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while True:
            batch = list(itertools.islice(indices, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
