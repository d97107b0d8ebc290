"""Weight normalisation: a parameter re-expressed as magnitude times direction,
``w = g * v / ||v||`` (Salimans & Kingma, https://arxiv.org/abs/1602.07868)."""

from ember.nn import Module, Parameter

from ._hooks import pop_hook

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dimension but ``dim``, kept broadcastable
    against ``v``; ``dim=-1`` means the norm of the whole tensor (a 0-d tensor)."""
    if dim == -1:
        return v.norm(pow)
    keep = dim % v.dim()
    others = tuple(d for d in range(v.dim()) if d != keep)
    if not others:
        return v.abs() if pow != 0 else (v != 0).to(v.dtype)
    return v.norm(pow, others, keepdim=True)


def _check_dim(dim, ndim):
    """``dim`` None or an int naming a dimension of a weight of ``ndim`` dims (torch's
    IndexError; ember checks it at registration, where torch returned the module)."""
    if dim is None:
        return
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"weight_norm(): dim must be an int or None, but got {dim!r} ({type(dim).__name__})")
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and
    ``<name>_v`` before every forward."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        """``g * v / ||v||`` from the module's current parameters."""
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / norm_except_dim(v, 2, self.dim))

    @staticmethod
    def apply(module, name, dim):
        """Replace parameter ``name`` of ``module`` by ``name_g`` and ``name_v`` and
        register the hook; returns the hook."""
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        _check_dim(dim, weight.dim())
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, fn.dim).data))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        """Put a plain parameter ``name`` back, holding the current weight."""
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparameterise ``module.<name>`` as ``g * v / ||v||``.

    The parameter is replaced by ``<name>_g`` (the magnitude, one value per slice
    along ``dim``) and ``<name>_v`` (the direction, the weight's shape); a forward
    pre-hook recomputes ``module.<name>`` from them before every forward, so
    gradients flow to ``g`` and ``v``.

    Args:
        module: the module holding the parameter.
        name: the parameter's name. Default: ``'weight'``.
        dim: the dimension kept by the norm (one magnitude per output channel for
            ``dim=0``); ``None`` takes the norm of the whole tensor. Default: 0.

    Returns:
        ``module`` itself.

    Examples::

        >>> m = nn.utils.weight_norm(nn.Linear(20, 40), name='weight')
        >>> m.weight_g.size(), m.weight_v.size()
        (ember.Size([40, 1]), ember.Size([40, 20]))
    """
    if not isinstance(module, Module):
        raise TypeError(f"weight_norm(): module must be an nn.Module, but got {type(module).__name__}")
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo :func:`weight_norm`: ``module.<name>`` becomes a plain parameter again,
    holding the weight computed from its current ``g`` and ``v``.

    Args:
        module: the module holding the parameter.
        name: the parameter's name. Default: ``'weight'``.

    Returns:
        ``module`` itself.

    Examples::

        >>> m = nn.utils.weight_norm(nn.Linear(20, 40))
        >>> m = nn.utils.remove_weight_norm(m)
        >>> hasattr(m, 'weight_g'), type(m.weight).__name__
        (False, 'Parameter')
    """
    hook = pop_hook(module._forward_pre_hooks, lambda h: isinstance(h, WeightNorm) and h.name == name)
    if hook is None:
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    hook.remove(module)
    return module
