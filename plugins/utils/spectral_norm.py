"""Spectral normalisation: a weight divided by its largest singular value, the
value estimated by power iteration (Miyato et al., https://arxiv.org/abs/1802.05957)."""

import ember
from ember.backend import data_of, tensor_like, xp_of
from ember.nn import Module, Parameter

from .._checks import integer, real
from ._hooks import pop_hook

__all__ = ["SpectralNorm", "spectral_norm", "remove_spectral_norm"]

_TRANSPOSED = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")


def _normalize(x, eps, out=None):
    return ember.nn.functional.normalize(x, dim=0, eps=eps, out=out)


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name> = <name>_orig / sigma``,
    running ``n_power_iterations`` steps of power iteration first in training mode
    (updating the ``<name>_u`` and ``<name>_v`` buffers in place)."""

    _version = 1

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        """The weight as a matrix whose rows run along ``dim`` (the outputs)."""
        mat = weight
        if self.dim != 0:
            mat = mat.permute(self.dim, *[d for d in range(mat.dim()) if d != self.dim])
        return mat.reshape(mat.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        """``<name>_orig / sigma`` with ``sigma = u . (W v)``."""
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with ember.no_grad():
                for _ in range(self.n_power_iterations):
                    v = _normalize(mat.t().matmul(u), self.eps, out=v)
                    u = _normalize(mat.matmul(v), self.eps, out=u)
                # the buffers change in place at the next step: keep this step's values
                u = u.clone()
                v = v.clone()
        sigma = ember.dot(u, mat.matmul(v))
        return weight / sigma

    def remove(self, module):
        """Put a plain parameter ``name`` back, holding the normalised weight."""
        with ember.no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    def _solve_v_and_rescale(self, mat, u, target_sigma):
        # v with u = W v / sigma in the least-squares sense, scaled so u . W v = sigma
        xp = xp_of(mat)
        W, uu = data_of(mat), data_of(u)
        v = xp.linalg.pinv(W.T @ W) @ W.T @ uu
        v = v * (float(target_sigma) / float(uu @ (W @ v)))
        return tensor_like(v.astype(W.dtype), mat)

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        """Replace parameter ``name`` by ``name_orig`` plus the ``name_u`` and ``name_v``
        buffers, and register the hooks; returns the forward pre-hook."""
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        with ember.no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            u = _normalize(weight.new_empty(h).normal_(0, 1), fn.eps)
            v = _normalize(weight.new_empty(w).normal_(0, 1), fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        setattr(module, fn.name, weight.data)
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        state_hook = _StateDictHook(fn)
        module._state_dict_hooks[id(state_hook)] = state_hook
        load_hook = _LoadStateDictPreHook(fn)
        module._load_state_dict_pre_hooks[id(load_hook)] = load_hook
        return fn


class _LoadStateDictPreHook:
    """Accepts state dicts of the current layout (``_orig``, ``_u``, ``_v``) as they
    are, and converts the layout before version 1 (``_orig``, the normalised weight
    and ``_u``, no ``_v``) by solving for ``_v``."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        fn = self.fn
        version = local_metadata.get("spectral_norm", {}).get(fn.name + ".version", None)
        if version is not None and version >= 1:
            return
        key = prefix + fn.name
        if version is None and all(key + s in state_dict for s in ("_orig", "_u", "_v")) and key not in state_dict:
            return
        missing = False
        for suffix in ("_orig", "", "_u"):
            if key + suffix not in state_dict:
                missing = True
                if strict:
                    missing_keys.append(key + suffix)
        if missing:
            return
        with ember.no_grad():
            weight_orig = state_dict[key + "_orig"]
            weight = state_dict.pop(key)
            sigma = (weight_orig / weight).mean()
            mat = fn.reshape_weight_to_matrix(weight_orig)
            state_dict[key + "_v"] = fn._solve_v_and_rescale(mat, state_dict[key + "_u"], sigma)


class _StateDictHook:
    """Records the layout version in the state dict's metadata."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata):
        table = local_metadata.setdefault("spectral_norm", {})
        key = self.fn.name + ".version"
        if key in table:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        table[key] = self.fn._version


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm (largest singular value) before
    every forward.

    The parameter becomes ``<name>_orig``; buffers ``<name>_u`` and ``<name>_v``
    hold the power-iteration vectors (random unit vectors at first). In training
    mode each forward runs ``n_power_iterations`` steps, updating them, then
    sets ``module.<name> = <name>_orig / (u . W v)``, ``W`` being the weight
    viewed as a matrix with ``dim`` first. In eval mode the stored vectors are used.

    Args:
        module: the module holding the parameter.
        name: the parameter's name. Default: ``'weight'``.
        n_power_iterations: power-iteration steps per forward. Default: 1.
        eps: lower bound on the norms when normalising ``u`` and ``v``. Default: 1e-12.
        dim: the output dimension of the weight; default 0, or 1 for the
            ConvTranspose modules.

    Returns:
        ``module`` itself.

    Examples::

        >>> m = nn.utils.spectral_norm(nn.Linear(20, 40))
        >>> m.weight_u.size()
        ember.Size([40])
    """
    if not isinstance(module, Module):
        raise TypeError(f"spectral_norm(): module must be an nn.Module, but got {type(module).__name__}")
    if dim is None:
        dim = 1 if any(c.__name__ in _TRANSPOSED for c in type(module).__mro__) else 0
    integer(n_power_iterations, "spectral_norm", "n_power_iterations")
    real(eps, "spectral_norm", "eps", low=0.0, low_open=True)
    weight = module._parameters.get(name)
    if weight is not None:
        ndim = weight.dim()
        if isinstance(dim, bool) or not isinstance(dim, int) or not -ndim <= dim < ndim:
            # torch fails later, permuting the weight (RuntimeError)
            raise RuntimeError(f"spectral_norm(): dim must be a dimension of the {ndim}-D '{name}', "
                               f"in [{-ndim}, {ndim - 1}], but got {dim!r}")
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo :func:`spectral_norm`: ``module.<name>`` becomes a plain parameter
    holding the weight normalised with the stored ``u`` and ``v``.

    Args:
        module: the module holding the parameter.
        name: the parameter's name. Default: ``'weight'``.

    Returns:
        ``module`` itself.

    Examples::

        >>> m = nn.utils.remove_spectral_norm(nn.utils.spectral_norm(nn.Linear(40, 10)))
        >>> hasattr(m, 'weight_u'), type(m.weight).__name__
        (False, 'Parameter')
    """
    hook = pop_hook(module._forward_pre_hooks, lambda h: isinstance(h, SpectralNorm) and h.name == name)
    if hook is None:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    hook.remove(module)
    pop_hook(module._state_dict_hooks, lambda h: isinstance(h, _StateDictHook) and h.fn.name == name)
    pop_hook(module._load_state_dict_pre_hooks,
             lambda h: isinstance(h, _LoadStateDictPreHook) and h.fn.name == name)
    return module
