"""The recorded graph: ``Node`` (one per differentiable op), leaf accumulators, edges.

An edge is ``(node, output_index)``: the node that produced a tensor and which of
its outputs the tensor is. Leaves that require grad get an ``AccumulateGrad`` node.
Nodes hold their inputs' edges and what their backward needs; outputs are saved as
raw data (not as tensors), so a tensor and its ``grad_fn`` never form a cycle.
"""

import weakref

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the "
    "graph are freed when you call .backward() or autograd.grad(). Specify "
    "retain_graph=True if you need to backward through the graph a second time or if "
    "you need to access saved tensors after calling backward."
)


class Node:
    """One recorded operation. Subclasses implement ``backward(grad)`` (one output)
    or ``apply(grads)`` (several outputs), returning one gradient per input."""

    next_edges = ()
    n_outputs = 1
    _saved = None
    _freed = False
    _pre_hooks = None

    def name(self):
        """The node's class name, as shown in ``grad_fn=<...>``."""
        return type(self).__name__

    @property
    def next_functions(self):
        """``((node, output_index), ...)`` for each input (``(None, 0)`` where none)."""
        return tuple(e if e is not None else (None, 0) for e in self.next_edges)

    def save(self, *tensors):
        """Keep input tensors for backward, remembering their versions."""
        self._saved = tuple((t, t._version_box(), t._version_box()[0]) for t in tensors)

    def save_output(self, out):
        """Keep this node's own output for backward, as data plus version."""
        box = out._version_box()
        self._saved_out = (out._data, out._be, out._out_idx, box, box[0])

    def saved(self):
        """The saved input tensors; raises if the graph was freed or an input changed."""
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        result = []
        for t, box, version in self._saved:
            if box[0] != version:
                raise _modified_error(t, box[0], version, self)
            result.append(t)
        return result

    def saved_output(self):
        """This node's saved output as a tensor whose ``grad_fn`` is this node."""
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        from .._tensor import Tensor

        data, be, idx, box, version = self._saved_out
        if box[0] != version:
            raise _modified_error(None, box[0], version, self)
        out = Tensor._make(data, be)
        out._rg = True
        out.grad_fn = self
        out._out_idx = idx
        out._vc = box
        return out

    def release(self):
        """Free what was saved for backward (after a backward without retain_graph)."""
        self._freed = True
        self._saved = None
        self.__dict__.pop("_saved_out", None)
        self.release_extra()

    def release_extra(self):
        """Hook for subclasses that keep other large state."""

    def apply(self, grads):
        """Gradients for each input, given the gradients of each output."""
        return self.backward(grads[0])

    def register_hook(self, hook):
        """Not supported on ember nodes; use ``Tensor.register_hook``."""
        raise RuntimeError("ember nodes take hooks through Tensor.register_hook")

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


def _modified_error(tensor, now, then, node):
    shape = "" if tensor is None else f" of shape {list(tensor.shape)}"
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [tensor{shape}] is at version {now}; expected version {then} "
        f"instead (saved by {node.name()})."
    )


class AccumulateGrad(Node):
    """The sink of a leaf tensor that requires grad: adds incoming gradients to ``.grad``."""

    def __init__(self, tensor):
        self.tensor_ref = weakref.ref(tensor)

    @property
    def variable(self):
        """The leaf tensor (None once it has been garbage-collected)."""
        return self.tensor_ref()

    def accumulate(self, grad, create_graph):
        tensor = self.tensor_ref()
        if tensor is None:
            return
        if not create_graph:
            grad = grad.detach()
        old = tensor.grad
        if old is None:
            tensor.grad = grad if create_graph else grad._owned_copy()
        elif create_graph or old._rg:
            tensor.grad = old + grad
        else:
            old._iadd_data(grad)
        hooks = tensor._hooks("post_accumulate")
        for hook in hooks:
            hook(tensor)


def edge_of(t):
    """The edge along which ``t`` receives its gradient, or None if it needs none."""
    if not t._rg:
        return None
    if t.grad_fn is not None:
        return (t.grad_fn, t._out_idx)
    return (t._accumulator(), 0)
