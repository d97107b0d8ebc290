"""``ember.utils.checkpoint``: trade compute for memory by recomputing in backward.

``checkpoint(function, *args)`` runs ``function`` without recording a graph, so the
activations inside it are not kept; backward runs it again with recording on (from
the same random state, so dropout draws the same masks) and backpropagates through
that fresh graph. Gradients equal those of a plain call.
"""

import contextlib
import functools
import warnings

import numpy as np

from .._creation import empty
from .._tensor import Tensor
from ..autograd import Function, backward as _backward
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..backend import REGISTRY

__all__ = ["checkpoint", "checkpoint_sequential"]


def _state_of(be, index):
    """The state of backend ``be``'s generator of device ``index`` (its
    ``generator_state``, or a NumPy generator's), or None when it cannot be taken."""
    take = getattr(be, "generator_state", None)
    if take is not None:
        return take(index)
    gen = be.generator(index)
    return gen.bit_generator.state if isinstance(gen, np.random.Generator) else None


class _RandomState:
    """The state of ember's CPU generator and of the generators of the devices that
    ``tensors`` live on, to replay their draws later."""

    def __init__(self, tensors):
        places = {("cpu", None)}
        places.update((t._be.name, t._be.device_index(t._data)) for t in tensors)
        self.states = []
        for name, index in sorted(places, key=str):
            state = _state_of(REGISTRY.get(name), index)
            if state is None:
                warnings.warn(f"checkpoint cannot save the random state of the {name} backend; "
                              f"random ops may draw differently when recomputed")
                continue
            self.states.append((name, index, state))

    def _apply(self, states):
        for name, index, state in states:
            be = REGISTRY.get(name)
            restore = getattr(be, "set_generator_state", None)
            if restore is not None:
                restore(index, state)
            else:
                be.generator(index).bit_generator.state = state

    @contextlib.contextmanager
    def replayed(self):
        """Within the block the generators draw as they did when this state was taken;
        afterwards they continue from where they were before the block."""
        now = [(name, index, _state_of(REGISTRY.get(name), index)) for name, index, _ in self.states]
        self._apply(self.states)
        try:
            yield
        finally:
            self._apply(now)


class CheckpointFunction(Function):
    """Runs ``function`` unrecorded in forward and again, recorded, in backward.

    The ``anchor`` input requires grad whenever recording is on, so the node is
    recorded even when no input requires grad: parameters used inside ``function``
    still get their gradients (the inner backward accumulates into them directly).
    """

    @staticmethod
    def forward(ctx, function, preserve_rng_state, anchor, *args):
        ctx.function = function
        ctx.tensor_mask = [isinstance(a, Tensor) for a in args]
        tensors = [a for a in args if isinstance(a, Tensor)]
        ctx.random_state = _RandomState(tensors) if preserve_rng_state else None
        ctx.plain = [None if is_tensor else a for a, is_tensor in zip(args, ctx.tensor_mask)]
        ctx.save_for_backward(*tensors)
        return function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        saved = iter(ctx.saved_tensors)
        inputs = [_detached(next(saved)) if is_tensor else a for a, is_tensor in zip(ctx.plain, ctx.tensor_mask)]
        replay = ctx.random_state.replayed() if ctx.random_state else contextlib.nullcontext()
        with replay, enable_grad():
            outputs = ctx.function(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(out, g) for out, g in zip(outputs, grad_outputs)
                 if isinstance(out, Tensor) and out.requires_grad and g is not None]
        if pairs:
            _backward([out for out, _ in pairs], [g for _, g in pairs])
        grads = tuple(a.grad if is_tensor else None for a, is_tensor in zip(inputs, ctx.tensor_mask))
        return (None, None, None) + grads


def _detached(t):
    """``t`` cut from its history, requiring grad as ``t`` does: the recomputation's leaf."""
    return t.detach().requires_grad_(t.requires_grad)


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, **kwargs):
    """``function(*args)``, computed without keeping its intermediate results for
    backward; backward recomputes them.

    Args:
        function: what to run; it takes ``args`` and returns a tensor or a tuple.
        *args: its arguments (tensors and anything else).
        use_reentrant: accepted as torch's flag. Recomputation here is always the
            reentrant kind (the inner backward accumulates into the parameters), so
            differentiate the result with ``.backward()``, not ``ember.autograd.grad``.
            With ``use_reentrant=False`` keyword arguments are passed on to ``function``.
        preserve_rng_state: replay the random generators' state of the forward pass
            in the recomputation, so dropout masks are the same (default True).

    Returns:
        What ``function(*args)`` returns. Parameters used inside ``function`` get their
        gradients even when no input requires grad.
    """
    if kwargs:
        if use_reentrant is None or use_reentrant:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        function = functools.partial(function, **kwargs)
    anchor = empty(0, requires_grad=True) if is_grad_enabled() else None
    return CheckpointFunction.apply(function, preserve_rng_state, anchor, *args)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, preserve_rng_state=True):
    """Run ``functions`` (a ``Sequential`` or a list of modules/functions) one after
    the other on ``input``, in ``segments`` chunks of ``len(functions) // segments``;
    every chunk but the last is checkpointed (the last one's outputs are needed
    for backward anyway). Returns the output of the last function."""
    from ..nn.containers import Sequential

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    if not isinstance(segments, int) or not 1 <= segments <= max(len(functions), 1):
        raise ValueError(f"segments must be an integer from 1 to the number of functions "
                         f"({len(functions)}), but got segments={segments}")
    size = len(functions) // segments
    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        input = checkpoint(_chain(functions[start:end]), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve_rng_state)
    return _chain(functions[end:])(input)


def _chain(functions):
    def run(x):
        for f in functions:
            x = f(x)
        return x

    return run
