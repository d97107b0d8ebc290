"""The recorded graph: ``Node`` (one per differentiable op), leaf accumulators, edges.

An edge is ``(node, output_index)``: the node that produced a tensor and which of
its outputs the tensor is. Leaves that require grad get an ``AccumulateGrad`` node.
Nodes hold their inputs' edges and what their backward needs; outputs are saved as
raw data (not as tensors), so a tensor and its ``grad_fn`` never form a cycle.
"""

import sys
import weakref

from .. import _tensor  # bound while it imports this package: used at call time
from .grad_mode import MODE

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
    _saved_out = None
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
        self._saved = tuple([(t, box, box[0]) for t in tensors for box in (t._version_box(),)])

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

    def saved_output_data(self):
        """The array of this node's saved output; raises if the graph was freed or the
        output changed in place since."""
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        data, be, idx, box, version = self._saved_out
        if box[0] != version:
            raise _modified_error(self._output_tensor(), box[0], version, self, idx)
        return data

    def saved_output(self):
        """This node's saved output as a tensor whose ``grad_fn`` is this node."""
        self.saved_output_data()
        return self._output_tensor()

    def _output_tensor(self):
        data, be, idx, box, version = self._saved_out
        out = _tensor.Tensor._make(data, be)
        out._rg = True
        out.grad_fn = self
        out._out_idx = idx
        out._vc = box
        return out

    def release(self):
        """Free what was saved for backward (after a backward without retain_graph)."""
        self._freed = True
        self._saved = None
        self._saved_out = None
        self.release_extra()

    def release_extra(self):
        """Hook for subclasses that keep other large state."""

    def apply(self, grads):
        """Gradients for each input, given the gradients of each output."""
        return self.backward(grads[0])

    @property
    def metadata(self):
        """A dict for user data attached to this node."""
        meta = self.__dict__.get("_metadata")
        if meta is None:
            meta = self._metadata = {}
        return meta

    def register_prehook(self, hook):
        """Register ``hook(grad_outputs) -> tuple or None``, run before this node's backward.

        Returns a handle whose ``remove()`` unregisters it.
        """
        hooks = self._node_hooks()[0]
        hooks.append(hook)
        return _tensor._RemovableHandle(hooks, hook)

    def register_hook(self, hook):
        """Register ``hook(grad_inputs, grad_outputs) -> tuple or None``, run after this
        node's backward; a tuple returned replaces the gradients passed on.

        Returns a handle whose ``remove()`` unregisters it.
        """
        hooks = self._node_hooks()[1]
        hooks.append(hook)
        return _tensor._RemovableHandle(hooks, hook)

    def _node_hooks(self):
        # Hooks wrap this node's ``apply`` (an instance attribute shadowing the method), so
        # nodes without hooks cost the engine nothing. The wrapper holds the node weakly:
        # no reference cycle.
        hooks = self.__dict__.get("_hooks_pre_post")
        if hooks is None:
            hooks = self._hooks_pre_post = ([], [])
            self.apply = _hooked_apply(weakref.ref(self), type(self).apply)
        return hooks

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


def _hooked_apply(ref, apply):
    def hooked(grads):
        node = ref()
        pre, post = node._hooks_pre_post
        for hook in pre:
            new = hook(tuple(grads))
            if new is not None:
                grads = _checked_hook_result(hook, new, len(grads))
        out = apply(node, list(grads))
        if post:
            out = tuple(out)
            for hook in post:
                new = hook(out, tuple(grads))
                if new is not None:
                    out = _checked_hook_result(hook, new, len(out))
        return out

    return hooked


def _checked_hook_result(hook, values, n):
    values = tuple(values) if isinstance(values, (tuple, list)) else (values,)
    if len(values) != n:
        raise RuntimeError(
            f"hook '{getattr(hook, '__name__', hook)}' has returned an incorrect number of "
            f"values (got {len(values)}, but expected {n})"
        )
    return list(values)


def _modified_error(tensor, now, then, node, output_of=None):
    """torch's message for a saved tensor changed in place; ``output_of`` is the output
    index when the saved tensor is ``node``'s own output."""
    desc = f"{tensor.type()} [{', '.join(str(s) for s in tensor.shape)}]]"
    if output_of is not None:
        desc += f", which is output {output_of} of {_op_name(node)},"
    elif tensor.grad_fn is not None:
        # as torch, name the op that last wrote the tensor
        desc += f", which is output {tensor._out_idx} of {_op_name(tensor.grad_fn)},"
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{desc} is at version {now}; expected version {then} instead. "
        f"Hint: the tensor was saved for backward by {node.name()}; clone it before the "
        f"in-place change, or use the out-of-place op."
    )


def _op_name(node):
    """``ExpBackward0`` -> ``Exp``: how torch names the op that produced a tensor."""
    name = node.name()
    cut = name.rfind("Backward")
    if cut > 0 and (name[cut + 8:] == "" or name[cut + 8:].isdigit()):
        return name[:cut]
    return name


class AccumulateGrad(Node):
    """The sink of a leaf tensor that requires grad: adds incoming gradients to ``.grad``."""

    def __init__(self, tensor):
        self.tensor_ref = weakref.ref(tensor)

    def _node_hooks(self):
        hooks = self.__dict__.get("_hooks_pre_post")
        if hooks is None:
            hooks = self._hooks_pre_post = ([], [])
            ref, accumulate = weakref.ref(self), AccumulateGrad.accumulate

            def hooked(grad, create_graph):
                node = ref()
                pre, post = node._hooks_pre_post
                for hook in pre:
                    new = hook((grad,))
                    if new is not None:
                        grad = _checked_hook_result(hook, new, 1)[0]
                accumulate(node, grad, create_graph)
                for hook in post:
                    hook((), (grad,))

            self.accumulate = hooked
        return hooks

    @property
    def variable(self):
        """The leaf tensor (None once it has been garbage-collected)."""
        return self.tensor_ref()

    def accumulate(self, grad, create_graph):
        tensor = self.tensor_ref()
        if tensor is None:
            return
        old = tensor._grad
        if create_graph:
            if grad._rg and not _CYCLE_WARNED:
                _warn_cycle()
            tensor._grad = grad if old is None else grad_sum(old, grad)
        elif old is None:
            # detached, and sharing memory with nothing: the gradient itself when nothing
            # else holds it (as torch steals it), else a copy
            tensor._grad = grad if _unshared(grad, tensor) else grad._owned_copy(tensor)
        elif old._rg:
            tensor._grad = grad_sum(old, grad.detach())
        elif old.is_sparse and not grad.is_sparse:
            tensor._grad = grad + old   # as torch: a dense gradient makes the sum dense
        elif grad.is_sparse and not old.is_sparse:
            grad._add_into(old)
        else:
            old._iadd_data(grad)
        hooks = tensor._hooks("post_accumulate")
        for hook in hooks:
            hook(tensor)


#: References to a gradient reaching ``_unshared`` that nothing else holds: the
#: engine's list of the node's gradients, ``accumulate``'s argument, ``_unshared``'s
#: argument and ``getrefcount``'s.
_ENGINE_REFERENCES = 4


def _unshared(grad, tensor):
    """Whether ``grad`` may become ``tensor.grad`` as it is: a dense tensor without
    history, in the tensor's layout, whose array owns its memory and is referenced by
    ``grad`` alone (no view of it, no other tensor, no hook keeps it)."""
    if grad._rg or grad.is_sparse or not _owns_writable(grad._data):
        return False
    if not grad._data.flags.c_contiguous and _is_c_contiguous(tensor._data):
        return False
    # the array: grad's attribute and getrefcount's argument
    return sys.getrefcount(grad._data) == 2 and sys.getrefcount(grad) <= _ENGINE_REFERENCES


def _owns_writable(data):
    """A writable array that owns its memory, or a whole-array view (a reshape) of one
    that nothing else references."""
    flags = getattr(data, "flags", None)
    if flags is None or not getattr(flags, "writeable", True):  # CuPy's arrays have no flag: all writable
        return False
    base = data.base
    # the base: the view's reference and getrefcount's argument (and this local name)
    return base is None or (base.base is None and base.size == data.size and flags.c_contiguous
                            and sys.getrefcount(base) == 3)


def _is_c_contiguous(data):
    flags = getattr(data, "flags", None)
    return flags is not None and flags.c_contiguous


def grad_sum(old, new):
    """``old + new`` for two gradients of one tensor; ``new + old`` when only ``old`` is
    sparse (a sparse tensor takes only sparse tensors on its right). Outside a
    recorded backward, two dense gradients of one dtype and shape are added as
    arrays, without the operator's dispatch and promotion."""
    if not (MODE.enabled or old.is_sparse or new.is_sparse):
        a, b = old._data, new._data
        if a.dtype == b.dtype and a.shape == b.shape:
            return _tensor.wrap(old._be.kernels["add"](a, b), old._be)
    return new + old if old.is_sparse and not new.is_sparse else old + new


_CYCLE_WARNED = False


def _warn_cycle():
    global _CYCLE_WARNED
    import warnings

    _CYCLE_WARNED = True
    warnings.warn(
        "Using backward() with create_graph=True will create a reference cycle between the "
        "parameter and its gradient which can cause a memory leak. We recommend using "
        "autograd.grad when creating the graph to avoid this. If you have to use this function, "
        "make sure to reset the .grad fields of your parameters to None after use to break the "
        "cycle and avoid the leak.", UserWarning, stacklevel=4)


def edge_of(t):
    """The edge along which ``t`` receives its gradient, or None if it needs none."""
    if not t._rg:
        return None
    if t.grad_fn is not None:
        return (t.grad_fn, t._out_idx)
    return (t._accumulator(), 0)
