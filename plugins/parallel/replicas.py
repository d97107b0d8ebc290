"""``replicate``: copies of a module on several devices, for one data-parallel forward."""

import contextlib
from collections import OrderedDict

import ember
from ember.nn import Module

from ._devices import as_device

__all__ = ["replicate"]


def _spread(tensor, devices, differentiable):
    """``tensor`` on each device. The first copy shares ``tensor``'s storage where
    ``tensor`` already lives on the first device (so in-place updates made there
    reach it); the others are copies. Differentiable ones record their history
    (the first as a view, a non-leaf like the others); the rest are plain tensors."""
    with contextlib.nullcontext() if differentiable else ember.no_grad():
        first = tensor.to(devices[0])
        if first is tensor and tensor.requires_grad:
            first = tensor.view_as(tensor) if differentiable else tensor.detach()
        return [first] + [tensor.to(device, copy=True) for device in devices[1:]]


def _shell(module):
    """A copy of ``module`` alone: the same attributes and hooks, its own tables of
    buffers and children (to be pointed at the replicas'), and no parameters: the
    parameter copies become plain attributes, as in torch's replicas."""
    state = dict(module.__dict__)
    state["_parameters"] = OrderedDict((name, None) for name, p in module._parameters.items() if p is None)
    state["_buffers"] = OrderedDict(module._buffers)
    state["_modules"] = OrderedDict(module._modules)
    shell = object.__new__(type(module))
    object.__setattr__(shell, "__dict__", state)
    return shell


def replicate(network, devices, detach=False):
    """Copies of ``network``, one per device, for a data-parallel forward.

    Each replica has the submodule structure, attributes and hooks of the
    original. Its parameters are copies on its device made by differentiable ops
    (non-leaf tensors, set as plain attributes rather than registered Parameters),
    so the gradients of every replica flow back into the original parameters and
    add up there; a parameter shared by several submodules stays shared. Buffers
    are copied without history. The replica on ``devices[0]`` shares storage with
    the original where the original lives there, so in-place updates it makes (a
    BatchNorm's running statistics) reach the original; the other replicas' are
    lost with them.

    Unlike torch, whose devices are GPUs, any devices are accepted (``'cpu'``
    repeated gives CPU-only data parallelism).

    Args:
        network (Module): the module to copy.
        devices (list of int, str or ember.device): one replica per entry.
        detach (bool): make parameter copies without history (no gradients flow back).

    Returns:
        A list of replicas of ``network``, in the order of ``devices``.

    Examples::

        >>> net = ember.nn.Linear(3, 2)
        >>> a, b = ember.nn.parallel.replicate(net, ["cpu", "cpu"])
        >>> a.weight.is_leaf, list(a.parameters())
        (False, [])
    """
    if not isinstance(network, Module):
        raise TypeError(f"replicate expects an ember.nn.Module, got {type(network).__name__}")
    devices = [as_device(d) for d in devices]
    if not devices:
        return []
    copies = {id(p): _spread(p, devices, not detach) for p in network.parameters()}
    copies.update((id(b), _spread(b, devices, b.requires_grad and not detach)) for b in network.buffers())
    originals = list(network.modules())
    replicas = []
    for j in range(len(devices)):
        shells = {id(m): _shell(m) for m in originals}
        for module in originals:
            shell = shells[id(module)]
            for name, child in module._modules.items():
                if child is not None:
                    shell._modules[name] = shells[id(child)]
            for name, p in module._parameters.items():
                if p is not None:
                    object.__setattr__(shell, name, copies[id(p)][j])
            for name, b in module._buffers.items():
                if b is not None:
                    shell._buffers[name] = copies[id(b)][j]
        replicas.append(shells[id(network)])
    return replicas
