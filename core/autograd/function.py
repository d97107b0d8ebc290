"""``ember.autograd.Function``: custom differentiable ops written by users."""

from .. import _tensor  # bound while it imports this package: used at call time
from .grad_mode import MODE, no_grad
from .graph import Node, edge_of


class FunctionCtx(Node):
    """The ``ctx`` passed to ``forward``/``backward``; it is also the graph node.

    Each ``Function`` subclass gets its own subclass of this one, named like torch's
    (``MyFnBackward``), so ``grad_fn`` shows which function made a tensor.
    """

    _tensor_pos = ()
    _saved_none = ()

    def __init__(self, fn_cls, n_inputs):
        self._fn = fn_cls
        self.needs_input_grad = ()
        self._non_diff = set()
        self._dirty = ()
        self.materialize_grads = True
        self.n_inputs = n_inputs

    def save_for_backward(self, *tensors):
        """Keep tensors (or None) for ``backward``; read them back from ``saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, _tensor.Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type "
                    f"{type(t).__name__}"
                )
        self._saved_none = [t is None for t in tensors]
        self.save(*[t for t in tensors if t is not None])

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
        """Declare inputs modified in place by ``forward`` (and returned by it)."""
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
        n = self.n_inputs
        if len(result) != n:
            if len(result) > n and all(r is None for r in result[n:]):
                result = result[:n]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients "
                    f"(expected {n}, got {len(result)})"
                )
        pos = self._tensor_pos
        if len(pos) != n:
            for i, r in enumerate(result):
                if r is not None and i not in pos:
                    raise RuntimeError(
                        f"function {self.name()} returned a gradient different than None at "
                        f"position {i + 1}, but the corresponding forward input was not a Variable"
                    )
        out = []
        for k, (i, edge) in enumerate(zip(pos, self.next_edges)):
            g = result[i]
            if edge is None or g is None:
                out.append(None)
                continue
            out.append(_validate_grad(self, k, g, self._in_meta[k]))
        return out


def _validate_grad(ctx, index, g, meta):
    """Bring a user-returned gradient to its input's shape and dtype, as torch does."""
    shape, dtype = meta
    if not isinstance(g, _tensor.Tensor):
        raise TypeError(
            f"function {ctx.name()} returned a gradient of type {type(g).__name__} at index "
            f"{index}; expected a Tensor or None"
        )
    if g.is_sparse:  # kept sparse (a sparse gradient has no dense array to reshape)
        if tuple(g.shape) != shape:
            raise RuntimeError(f"Function {ctx.name()} returned an invalid gradient at index "
                               f"{index} - got {list(g.shape)} but expected shape {list(shape)}")
        return g if g.dtype is dtype else g.to(dtype)
    if tuple(g._data.shape) != shape:
        gs = tuple(g._data.shape)
        lead = len(gs) - len(shape)
        ok = lead >= 0 and all(s == 1 or s == t for s, t in zip(shape, gs[lead:]))
        if not ok:
            raise RuntimeError(
                f"Function {ctx.name()} returned an invalid gradient at index {index} - got "
                f"{list(gs)} but expected shape compatible with {list(shape)}"
            )
        from .._ops.common import sum_to

        g = sum_to(g, shape)
    if g._data.dtype != dtype.np:
        g = g.to(dtype)
    return g


def _zeros_like_output(ctx, i):
    from .._creation import zeros

    meta = ctx._out_meta[i]
    if meta is None:
        return None
    shape, dtype, device = meta
    return zeros(shape, dtype=dtype, device=device)


def _node_class(fn_cls):
    """The ``FunctionCtx`` subclass for ``fn_cls`` (made once, kept on the class),
    named ``fn_cls.backward_name`` when the class sets it, else ``<name>Backward``."""
    node_cls = fn_cls.__dict__.get("_ember_backward_cls")
    if node_cls is None:
        name = fn_cls.__dict__.get("backward_name") or fn_cls.__name__ + "Backward"
        node_cls = type(name, (FunctionCtx,), {"__module__": fn_cls.__module__})
        type.__setattr__(fn_cls, "_ember_backward_cls", node_cls)
    return node_cls


class Function:
    """Base class for custom ops: define static ``forward(ctx, *args)`` and
    ``backward(ctx, *grad_outputs)``, then call ``MyFn.apply(*args)``.

    ``backward`` returns one gradient per ``forward`` argument (None for
    non-tensors). Use ``ctx.save_for_backward`` for tensors and plain attributes
    of ``ctx`` for everything else. As in torch, ``forward(*args)`` may instead
    leave ``ctx`` out when the class defines ``setup_context(ctx, inputs, output)``.
    The class attribute ``backward_name`` (ember's addition) names the node that
    appears as ``grad_fn`` (default ``<class name>Backward``).

    Examples::

        >>> class Cube(ember.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x ** 3
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved_tensors
        ...         return grad * 3 * x ** 2
        >>> x = ember.tensor([2.0], requires_grad=True)
        >>> Cube.apply(x).backward()
        >>> x.grad
        tensor([12.])
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the outputs from the inputs."""
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional: fill ``ctx`` from the inputs and output when ``forward`` takes no ``ctx``."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Gradients of the inputs from the gradients of the outputs."""
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, when gradients are recorded, add a node for ``backward``."""
        Tensor = _tensor.Tensor
        ctx = _node_class(cls)(cls, len(args))
        pos, needs = [], []
        for i, a in enumerate(args):
            if a.__class__ is Tensor or isinstance(a, Tensor):
                pos.append(i)
                needs.append(a._rg)
            else:
                needs.append(False)
        ctx.needs_input_grad = tuple(needs)
        recording = MODE.enabled and True in needs
        if recording:
            # edges and metadata before forward: an input changed in place (mark_dirty)
            # must still send its gradient to its old history
            ctx._tensor_pos = tuple(pos)
            tensors = [args[i] for i in pos]
            ctx.next_edges = tuple([edge_of(t) for t in tensors])
            ctx._in_meta = tuple([(t._data.shape, t.dtype) for t in tensors])
        prev, MODE.enabled = MODE.enabled, False
        try:
            if cls.setup_context is not Function.setup_context:
                raw = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, raw)
            else:
                raw = cls.forward(ctx, *args, **kwargs)
        finally:
            MODE.enabled = prev
        if not recording:
            return raw
        single = not isinstance(raw, tuple)
        outputs = (raw,) if single else raw
        ctx.n_outputs = len(outputs)
        ctx._out_meta = []
        dirty = {id(t) for t in ctx._dirty}
        wrapped = []
        for i, out in enumerate(outputs):
            if not isinstance(out, Tensor):
                ctx._out_meta.append(None)
                wrapped.append(out)
                continue
            ctx._out_meta.append((out._data.shape, out.dtype, out.device))
            if id(out) in dirty:
                t = out
                if t.grad_fn is None and t._rg:
                    raise RuntimeError(
                        "a leaf Variable that requires grad has been used in an in-place operation."
                    )
                t._bump_version()
            else:
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
