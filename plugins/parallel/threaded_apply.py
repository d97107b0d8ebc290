"""``parallel_apply``: run modules on their inputs, each in its own thread."""

import threading

import ember

from ._devices import as_device

__all__ = ["parallel_apply"]


class _Failure:
    """An exception raised by a replica, to be raised again in the caller."""

    def __init__(self, error, where):
        self.error, self.where = error, where

    def reraise(self):
        message = f"Caught {type(self.error).__name__} {self.where}: {self.error}"
        try:
            again = type(self.error)(message)
        except Exception:
            again = RuntimeError(message)
        raise again from self.error


def _first_tensor(obj):
    if isinstance(obj, ember.Tensor):
        return obj
    items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()
    return next((t for t in map(_first_tensor, items) if t is not None), None)


def _run(i, module, input, kwargs, device):
    if device is None:
        tensor = _first_tensor((input, kwargs))
        if tensor is None:
            return _Failure(ValueError("no device was given and no tensor input was found to tell it"),
                            f"in replica {i}")
        device = tensor.device
    try:
        return module(*(input if isinstance(input, (list, tuple)) else (input,)), **kwargs)
    except Exception as error:
        return _Failure(error, f"in replica {i} on device {device}")


def _check_length(what, values, n):
    if len(values) != n:
        raise ValueError(f"parallel_apply: the number of modules ({n}) is not equal to the number of {what} "
                         f"({len(values)})")


def parallel_apply(modules, inputs, kwargs_tup=None, devices=None):
    """Call ``modules[i](*inputs[i], **kwargs_tup[i])`` for every ``i``, each in its
    own thread, and return the outputs in order.

    An input that is not a list or tuple is the module's only argument. An
    exception in a replica is raised again in the caller, of the same type when
    it can be rebuilt from a message (else a RuntimeError), naming the replica's
    index and device, with the original as its cause. The caller's gradient mode
    (which belongs to each thread, as torch's) holds in every replica.

    Args:
        modules (sequence of Module): the replicas.
        inputs (sequence): one argument tuple (or single argument) per module.
        kwargs_tup (sequence of dict, optional): one keyword-argument dict per module.
        devices (sequence of int, str or ember.device, optional): one device per
            module, named in errors (default: the device of the first tensor in
            the replica's input).

    Examples::

        >>> a, b = ember.nn.parallel.replicate(ember.nn.Linear(2, 1), ["cpu", "cpu"])
        >>> outs = ember.nn.parallel.parallel_apply([a, b], [ember.ones(1, 2), ember.zeros(3, 2)])
        >>> [tuple(o.shape) for o in outs]
        [(1, 1), (3, 1)]
    """
    n = len(modules)
    _check_length("inputs", inputs, n)
    if kwargs_tup is None:
        kwargs_tup = ({},) * n
    _check_length("kwargs_tup", kwargs_tup, n)
    devices = [None] * n if devices is None else [None if d is None else as_device(d) for d in devices]
    _check_length("devices", devices, n)
    results = [None] * n
    jobs = list(enumerate(zip(modules, inputs, kwargs_tup, devices)))

    recording = ember.is_grad_enabled()

    def work(i, job):
        with ember.set_grad_enabled(recording):
            results[i] = _run(i, *job)

    if n > 1:
        threads = [threading.Thread(target=work, args=job, name=f"ember-replica-{job[0]}") for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        for i, job in jobs:
            results[i] = _run(i, *job)
    for result in results:
        if isinstance(result, _Failure):
            result.reraise()
    return results
