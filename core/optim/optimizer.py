"""``ember.optim.Optimizer``: the base class that holds parameter groups and per-parameter state."""

import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain

from .._tensor import Tensor


class _RequiredParameter:
    """Marks a hyper-parameter that has no default: every group must give it."""

    def __repr__(self):
        return "<required parameter>"


#: Default of a hyper-parameter that each parameter group has to specify.
required = _RequiredParameter()


def _typename(obj):
    if isinstance(obj, Tensor):
        return "ember.Tensor"
    cls = type(obj)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


class Optimizer:
    """Base class of every optimizer.

    An optimizer holds a list of *parameter groups* (``param_groups``): dicts with the
    tensors to update under ``"params"`` and their hyper-parameters (learning rate,
    momentum...) under the other keys, each filled from ``defaults`` when the group
    does not give it. Per-parameter buffers (momentum, running averages) live in
    ``state``, a dict keyed by the parameter tensor.

    Args:
        params (iterable): tensors to optimize, or dicts defining parameter groups.
        defaults (dict): the default hyper-parameters of a group.

    Subclasses implement :meth:`step`.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    # group options that states pickled by older versions may lack, and their values
    _GROUP_DEFAULTS = {}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for group in self.param_groups:
            for key, value in self._GROUP_DEFAULTS.items():
                group.setdefault(key, value)

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"

    def add_param_group(self, param_group):
        """Add a parameter group, e.g. layers unfrozen while fine-tuning.

        Args:
            param_group (dict): ``"params"`` (a tensor or an ordered iterable of
                tensors) and any hyper-parameters that differ from ``defaults``.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but "
                            "the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        param_group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        ids = {id(p) for p in params}
        if len(ids) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error", stacklevel=3)
        for group in self.param_groups:
            if any(id(p) in ids for p in group["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # torch's message for a sparse gradient given to an optimizer that cannot use one
    # (None: the optimizer takes sparse gradients)
    _sparse_error = None

    def _gradients(self, group, negate=True):
        """``(parameter, gradient)`` for each parameter of ``group`` that has a gradient,
        the gradient negated when the group maximizes its objective (unless not
        ``negate``: a group kernel negates in its launch). All gradients are checked
        before any is returned, so a refused one leaves every parameter as it was."""
        maximize = negate and group.get("maximize", False)
        pairs = []
        for p in group["params"]:
            grad = p.grad
            if grad is not None:
                if grad.is_sparse and self._sparse_error is not None:
                    raise RuntimeError(self._sparse_error)
                pairs.append((p, -grad if maximize else grad))
        return pairs

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized tensors.

        Args:
            set_to_none (bool): drop the gradients (``p.grad = None``, the default)
                instead of filling them with zeros; cheaper, and a later step skips
                parameters that received no gradient.
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if grad.grad_fn is not None:
                        grad = grad.detach()
                        p.grad = grad
                    else:
                        grad.requires_grad_(False)
                    grad.zero_()

    def state_dict(self):
        """The optimizer's state as a dict, in torch's format.

        ``"state"`` maps each parameter's index to its buffers, ``"param_groups"`` is
        a list of the groups' hyper-parameters with ``"params"`` as index lists.
        Indices count parameters in group order, so the dict refers to no tensor
        object and loads into an optimizer built the same way on other parameters.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a state produced by :meth:`state_dict` (groups must match in size).

        Floating-point buffers are copied to the dtype and device of their parameter
        (``"step"`` counters are kept as they are). Unlike torch, the buffers are
        always copies, so the loaded optimizer never shares them with the source.
        """
        saved_groups = deepcopy(state_dict["param_groups"])
        groups = self.param_groups
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, key=None):
            if isinstance(value, Tensor):
                value = value.detach().clone()
                if key != "step" and param.is_floating_point():
                    return value.to(dtype=param.dtype, device=param.device)
                return value.to(device=param.device) if key != "step" else value
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v)
            else:
                state[k] = v
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            new_groups.append(saved)
        self.__setstate__({"state": state, "param_groups": new_groups})

    def step(self, closure=None):
        """Update the parameters once from their ``.grad``.

        Args:
            closure (callable, optional): re-evaluates the model and returns the
                loss; called with gradients enabled before the update.
        """
        raise NotImplementedError

    # Helpers for the subclasses.

    @staticmethod
    def _evaluate(closure):
        if closure is None:
            return None
        from ..autograd import enable_grad

        with enable_grad():
            return closure()


def _check(condition, message):
    if not condition:
        raise ValueError(message)


def _check_lr(lr, strict=False):
    """torch's checks of a learning rate (a number or a one-element tensor)."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    _check(lr > 0.0 if strict else lr >= 0.0, f"Invalid learning rate: {lr}")


def _check_flags(capturable, differentiable):
    """Refuse torch's options that change what a step is: ember does not capture CUDA
    graphs, and its steps are not recorded by autograd."""
    if capturable:
        raise NotImplementedError("capturable=True (CUDA graph capture) is not supported by ember")
    if differentiable:
        raise NotImplementedError("differentiable=True is not supported: ember's optimizer steps "
                                  "are not recorded by autograd")


def _counted(step_t):
    """Count a step on the host counter ``step_t``; the new count."""
    step_t += 1
    return step_t.item()


#: The device types whose parameters may take ``capturable=True`` (torch's list, of
#: the types ember has): a step replayed from a CUDA graph needs its counts on the GPU.
CAPTURABLE_DEVICES = ("cuda",)


def _check_capturable(param):
    """torch's refusal of a capturable step of a parameter on another device type."""
    if param.device.type not in CAPTURABLE_DEVICES:
        raise AssertionError("If capturable=True, params and state_steps must be on supported "
                             f"devices: {list(CAPTURABLE_DEVICES)}.")


def _scalar(value):
    """A hyper-parameter given as a number or a one-element tensor, as a Python number."""
    return value.item() if isinstance(value, Tensor) else value


__all__ = ["Optimizer", "required"]
