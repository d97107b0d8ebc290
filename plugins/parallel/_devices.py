"""Device ids as DataParallel and the ``ember.nn.parallel`` functions take them:
ints (a CUDA index, ``-1`` for the CPU), strings and ``ember.device`` objects."""

import itertools
import numbers

import ember


def as_device(d):
    """``d`` as the ``ember.device`` a tensor placed on it reports (``'cuda'`` is the
    current CUDA device, ``'cuda:0'``); an unknown device type raises here."""
    if isinstance(d, numbers.Integral) and not isinstance(d, bool):
        d = ember.device("cpu") if d == -1 else ember.device("cuda", int(d))
    else:
        d = ember.device(d)
    if d.type == "cpu" or d.index is not None:
        return d
    return ember.empty(0, device=d).device


def check_module_on(module, device):
    """Raise unless every parameter and buffer of ``module`` lives on ``device``
    (the first device, from which the replicas are copied)."""
    for t in itertools.chain(module.parameters(), module.buffers()):
        if t.device != device:
            raise RuntimeError("module must have its parameters and buffers "
                               f"on device {device} (device_ids[0]) but found one of "
                               f"them on device: {t.device}")
