"""``ember.utils.data.dataloader``: batches from a dataset, in the order a sampler gives.

Loading happens in the calling process: ``num_workers`` is accepted for compatibility
and the batches are the same as torch's single-process loader would give.
"""

import numbers
import warnings

import numpy as np

from ... import accelerator
from ..._creation import tensor
from ..._ops.join import stack
from ..._tensor import Tensor
from .sampler import BatchSampler, RandomSampler, SequentialSampler


def default_collate(batch):
    """Stack a list of samples into a batch: tensors are stacked, numbers become a
    tensor, dicts and sequences are collated field by field (a sequence of fields
    comes back as a list, a namedtuple as the same namedtuple)."""
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(list(batch), 0)
    if isinstance(first, np.ndarray):
        return stack([tensor(b) for b in batch], 0)
    if isinstance(first, bool):
        return tensor(batch)
    if isinstance(first, numbers.Integral):
        return tensor(batch)
    if isinstance(first, numbers.Real):
        return tensor(batch, dtype="float64")
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, dict):
        return {key: default_collate([b[key] for b in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(b) != len(first) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(col)) for col in zip(*batch)]
        if hasattr(first, "_fields"):  # a namedtuple keeps its type
            return type(first)(*fields)
        return fields
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(first)}")


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size: samples per batch (default 1); None yields single samples, uncollated.
        shuffle: a new random order each epoch (a ``RandomSampler``).
        sampler: the order of the indices (a ``Sampler`` or any iterable of indices);
            excludes ``shuffle``.
        batch_sampler: yields whole lists of indices; excludes ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers: accepted for compatibility; loading runs in this process.
        collate_fn: merges a list of samples into a batch (``default_collate``).
        pin_memory: copy each batch's tensors into page-locked memory (``Tensor.pin_memory``)
            when an accelerator is available; without one, as torch does, each pass
            warns and the batches stay as they are.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        generator: an ``ember.Generator`` (or a NumPy ``Generator``) for the ``shuffle`` order
            (default: ember's).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, generator=None, **kwargs):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.collate_fn = collate_fn or default_collate

    def __iter__(self):
        pin = self.pin_memory and accelerator.is_available()
        if self.pin_memory and not pin:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "so the batches are not pinned.", UserWarning, stacklevel=2)
        batches = self._batches()
        return map(_pinned, batches) if pin else batches

    def _batches(self):
        if self.batch_sampler is None:
            for index in self.sampler:
                yield self.dataset[index]
            return
        for indices in self.batch_sampler:
            yield self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self):
        return len(self.sampler if self.batch_sampler is None else self.batch_sampler)


def _pinned(batch):
    """``batch`` with every tensor in it (through dicts, lists, tuples, namedtuples)
    replaced by its pinned copy."""
    if isinstance(batch, Tensor):
        return batch.pin_memory()
    if isinstance(batch, dict):
        return {key: _pinned(value) for key, value in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_pinned(value) for value in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_pinned(value) for value in batch)
    return batch
