"""``DataParallel`` and its functional form ``data_parallel``: split the batch over
devices, run a replica of the module on each part, join the outputs."""

import ember
from ember.nn import Module

from ._devices import as_device, check_module_on
from .replicas import replicate
from .scatter_gather import gather, scatter_kwargs
from .threaded_apply import parallel_apply

__all__ = ["DataParallel", "data_parallel"]


class _Spreader:
    """The steps of a data-parallel call, over ``self.device_ids`` along ``self.dim``
    to ``self.output_device``. DataParallel's subclasses may override a step (as in
    torch, e.g. ``scatter`` for inputs of their own types)."""

    def __init__(self, device_ids, output_device, dim):
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim

    def spread(self, module, inputs, kwargs):
        """``module(*inputs, **kwargs)`` computed part by part, one part per device."""
        inputs, kwargs = self.scatter(inputs, kwargs, self.device_ids)
        if not inputs and not kwargs:
            inputs, kwargs = ((),), ({},)
        if len(self.device_ids) == 1:
            return module(*inputs[0], **kwargs[0])
        replicas = self.replicate(module, self.device_ids[:len(inputs)])
        outputs = self.parallel_apply(replicas, inputs, kwargs)
        return self.gather(outputs, self.output_device)

    def replicate(self, module, device_ids):
        """One replica of ``module`` per device (without history under ``no_grad``)."""
        return replicate(module, device_ids, not ember.is_grad_enabled())

    def scatter(self, inputs, kwargs, device_ids):
        """The positional and keyword arguments split into one part per device."""
        return scatter_kwargs(inputs, kwargs, device_ids, dim=self.dim)

    def parallel_apply(self, replicas, inputs, kwargs):
        """Each replica run on its part of the arguments, in threads."""
        return parallel_apply(replicas, inputs, kwargs, self.device_ids[:len(replicas)])

    def gather(self, outputs, output_device):
        """The replicas' outputs joined on ``output_device``."""
        return gather(outputs, output_device, dim=self.dim)


def _cuda_index(d, allow_cpu=False):
    device = as_device(d)
    if device.type == "cpu" and allow_cpu:
        return -1
    if device.type != "cuda":
        raise ValueError(f"DataParallel runs on cuda devices, got {d!r} "
                         "(ember.nn.parallel.data_parallel takes devices of any type)")
    return device.index


class DataParallel(Module, _Spreader):
    """Data parallelism at the module level: each forward splits the batch over
    the GPUs ``device_ids``, runs a replica of ``module`` on each part in its own
    thread, and concatenates the outputs on ``output_device``.

    Tensors among the positional and keyword arguments are cut along ``dim`` into
    ``len(device_ids)`` chunks (fewer when the batch is smaller); tuples, lists,
    dicts and namedtuples are split item by item; other objects are shared by all
    replicas. The module's parameters and buffers must be on ``device_ids[0]``.
    In backward, the gradients of all replicas add up in the module's parameters.

    The replicas live for one forward: attributes they change are lost, except
    in-place updates of parameters and buffers by the replica on
    ``device_ids[0]``, which shares storage with ``module`` (BatchNorm's running
    statistics come from the first part of the batch). Hooks of ``module`` run once
    per replica. A module returning a 0-dimensional tensor gives a vector with
    one entry per replica (with a warning).

    Without a usable cuda backend, or with a single device, the forward is
    ``module(*inputs, **kwargs)`` itself, as in torch; ``device_ids`` of other
    device types are refused when cuda is usable (``ember.nn.parallel.data_parallel``
    takes any devices, CPU ones included).

    Args:
        module (Module): the module to parallelize, available as ``self.module``
            (``state_dict`` keys start with ``module.``).
        device_ids (list of int, str or ember.device): the GPUs (default: all).
        output_device (int, str or ember.device): where the output goes
            (default: ``device_ids[0]``; ``-1`` or ``'cpu'``: the CPU).
        dim (int): the batch dimension. Default: 0.

    Examples::

        >>> net = ember.nn.DataParallel(ember.nn.Linear(3, 2))
        >>> net(ember.ones(4, 3)).shape
        ember.Size([4, 2])
        >>> list(net.state_dict())
        ['module.weight', 'module.bias']
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        if not ember.cuda.is_available():
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = list(range(ember.cuda.device_count()))
        if not device_ids:
            raise ValueError("DataParallel needs at least one device, got an empty device_ids")
        self.dim = dim
        self.device_ids = [_cuda_index(d) for d in device_ids]
        self.output_device = _cuda_index(device_ids[0] if output_device is None else output_device, allow_cpu=True)
        self.src_device_obj = ember.device("cuda", self.device_ids[0])
        if len(self.device_ids) == 1:
            self.module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs):
        """The module's output for the whole batch, computed part by part."""
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        check_module_on(self.module, self.src_device_obj)
        return self.spread(self.module, inputs, kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """``module(*inputs, **module_kwargs)`` computed in parallel over ``device_ids``:
    the functional form of :class:`DataParallel`.

    Unlike torch, whose devices are GPUs, any devices are accepted: with
    ``device_ids=['cpu', 'cpu']`` the batch is split in two, two replicas run in
    two threads, and the output and the parameters' gradients are the module's own.

    Args:
        module (Module): the module, its parameters and buffers on ``device_ids[0]``.
        inputs: the positional argument, or a tuple of them (None: no argument).
        device_ids (list of int, str or ember.device): the devices (default: all GPUs).
        output_device (int, str or ember.device): where the output goes
            (default: ``device_ids[0]``; ``-1``: the CPU).
        dim (int): the batch dimension. Default: 0.
        module_kwargs (dict, optional): keyword arguments, split like ``inputs``.

    Examples::

        >>> net = ember.nn.Linear(3, 2)
        >>> x = ember.randn(5, 3)
        >>> y = ember.nn.parallel.data_parallel(net, x, device_ids=["cpu", "cpu"])
        >>> bool((y - net(x)).abs().max() < 1e-6)
        True
    """
    if not isinstance(inputs, tuple):
        inputs = () if inputs is None else (inputs,)
    if device_ids is None:
        if not ember.cuda.is_available():
            raise RuntimeError("data_parallel: no device_ids were given and no cuda device is available")
        device_ids = list(range(ember.cuda.device_count()))
    devices = [as_device(d) for d in device_ids]
    if not devices:
        raise ValueError("data_parallel needs at least one device, got an empty device_ids")
    output_device = devices[0] if output_device is None else as_device(output_device)
    check_module_on(module, devices[0])
    return _Spreader(devices, output_device, dim).spread(module, inputs, module_kwargs)
