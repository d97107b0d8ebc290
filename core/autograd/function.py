"""``ember.autograd.Function``: custom differentiable ops written by users."""

from .grad_mode import MODE, no_grad
from .graph import Node, edge_of


class FunctionCtx(Node):
    """The ``ctx`` passed to ``forward``/``backward``; it is also the graph node."""

    def __init__(self, fn_cls, n_inputs):
        self._fn = fn_cls
        self.needs_input_grad = ()
        self._non_diff = set()
        self._dirty = ()
        self.materialize_grads = True
        self.n_inputs = n_inputs

    def name(self):
        return self._fn.__name__ + "Backward"

    def save_for_backward(self, *tensors):
        """Keep tensors (or None) for ``backward``; read them back from ``saved_tensors``."""
        self._saved_none = [t is None for t in tensors]
        self.save(*(t for t in tensors if t is not None))

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, checked for in-place changes."""
        if self._saved is None and not self._freed:
            return ()
        it = iter(self.saved())
        return tuple(None if none else next(it) for none in self._saved_none)

    def mark_non_differentiable(self, *tensors):
        """Declare outputs that get no gradient (e.g. indices)."""
        self._non_diff.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        """Declare inputs modified in place by ``forward``."""
        self._dirty = tensors

    def set_materialize_grads(self, value):
        """Whether missing output gradients reach ``backward`` as zeros (default) or None."""
        self.materialize_grads = bool(value)

    def apply(self, grads):
        if self.materialize_grads:
            grads = [g if g is not None else _zeros_like_output(self, i) for i, g in enumerate(grads)]
        result = self._fn.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != self.n_inputs:
            if len(result) > self.n_inputs and all(r is None for r in result[self.n_inputs:]):
                result = result[: self.n_inputs]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients "
                    f"(expected {self.n_inputs}, got {len(result)})"
                )
        return result


def _zeros_like_output(ctx, i):
    from .._creation import zeros

    shape, dtype, device = ctx._out_meta[i]
    return zeros(shape, dtype=dtype, device=device)


class Function:
    """Base class for custom ops: define static ``forward(ctx, *args)`` and
    ``backward(ctx, *grad_outputs)``, then call ``MyFn.apply(*args)``.

    ``backward`` returns one gradient per ``forward`` argument (None for
    non-tensors). Use ``ctx.save_for_backward`` for tensors and plain attributes
    of ``ctx`` for everything else.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the outputs from the inputs."""
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Gradients of the inputs from the gradients of the outputs."""
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, when gradients are recorded, add a node for ``backward``."""
        from .._tensor import Tensor

        ctx = FunctionCtx(cls, len(args))
        tensors = [a for a in args if isinstance(a, Tensor)]
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        recording = MODE.enabled and any(t._rg for t in tensors)
        with no_grad():
            raw = cls.forward(ctx, *args, **kwargs)
        if not recording:
            return raw
        single = not isinstance(raw, tuple)
        outputs = (raw,) if single else raw
        ctx.next_edges = tuple(edge_of(a) if isinstance(a, Tensor) else None for a in args)
        ctx.n_outputs = len(outputs)
        ctx._out_meta = []
        wrapped = []
        for i, out in enumerate(outputs):
            if not isinstance(out, Tensor):
                ctx._out_meta.append(None)
                wrapped.append(out)
                continue
            ctx._out_meta.append((tuple(out.shape), out.dtype, out.device))
            t = Tensor._make(out._data, out._be)
            t._vc = out._version_box()
            if id(out) not in ctx._non_diff and out.is_floating_point():
                t._rg = True
                t.grad_fn = ctx
                t._out_idx = i
            wrapped.append(t)
        return wrapped[0] if single else tuple(wrapped)


class once_differentiable:
    """Decorator for ``backward`` methods that are not differentiable themselves."""

    def __new__(cls, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(ctx, *args):
            with no_grad():
                return fn(ctx, *args)

        return wrapper
