"""The backward pass: walk the recorded graph from the roots in dependency order."""

import threading

from .. import _tensor  # bound while it imports this package: used at call time
from .grad_mode import MODE
from .graph import AccumulateGrad, edge_of, grad_sum


def _check_roots(tensors, grad_tensors):
    Tensor = _tensor.Tensor
    roots = []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward expects tensors, got {type(t).__name__} at position {i}")
        if not t._rg:
            raise RuntimeError(
                "element %d of tensors does not require grad and does not have a grad_fn" % i
            )
        g = grad_tensors[i] if grad_tensors is not None else None
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            data = t._data
            g = Tensor._make(t._be.full(data.shape, 1, data.dtype, t._be.device_index(data)), t._be)
        elif not isinstance(g, Tensor):
            from .. import _creation

            g = _creation.tensor(g, dtype=t.dtype, device=t.device)
        elif g._data.dtype != t._data.dtype and t.is_floating_point():
            g = g.to(t.dtype)
        if g._be is not t._be:
            raise RuntimeError(f"invalid gradient at index {i} - expected device {t.device} but got "
                               f"{g.device}")
        if g.shape != t.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                f"output[{i}] has a shape of {t.shape}."
            )
        roots.append((edge_of(t), g))
    return roots


def _dependencies(root_nodes):
    """Count, for each node reachable from the roots, the edges that lead into it."""
    deps = {}
    seen = set()
    stack = list(root_nodes)
    for n in root_nodes:
        seen.add(n)
    while stack:
        node = stack.pop()
        for e in node.next_edges:
            if e is None:
                continue
            nxt = e[0]
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return deps, seen


def _reaching(nodes, targets):
    """The nodes from which some target node can be reached (the rest need not run)."""
    memo = {}
    for start in nodes:
        if start in memo:
            continue
        stack = [(start, iter(start.next_edges))]
        memo[start] = start in targets
        while stack:
            node, it = stack[-1]
            advanced = False
            for e in it:
                if e is None:
                    continue
                nxt = e[0]
                if nxt not in memo:
                    memo[nxt] = nxt in targets
                    stack.append((nxt, iter(nxt.next_edges)))
                    advanced = True
                    break
                if memo[nxt]:
                    memo[node] = True
            if not advanced:
                stack.pop()
                if stack and memo[node]:
                    memo[stack[-1][0]] = True
    return {n for n, ok in memo.items() if ok}


def _add(a, b):
    return b if a is None else grad_sum(a, b)


class _Passes(threading.local):
    """This thread's backward passes now running (nested ones, from hooks, count too)
    and the callbacks queued for the end of the outermost one."""

    def __init__(self):
        self.depth = 0
        self.callbacks = []


_Pass = _Passes()


def queue_callback(callback):
    """Call ``callback()`` once the backward pass now running has finished, after every
    gradient has been accumulated (as torch's ``Variable._execution_engine.queue_callback``:
    DistributedDataParallel waits for its gradient reductions there). Outside a backward
    pass it raises RuntimeError."""
    if not _Pass.depth:
        raise RuntimeError("queue_callback can only be called during the backward pass")
    _Pass.callbacks.append(callback)


def run_backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None,
                 allow_unused=False):
    """Backpropagate from ``tensors`` (see :func:`_run_backward`), then call the
    callbacks queued during the pass if it was the outermost one."""
    _Pass.depth += 1
    try:
        result = _run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs, allow_unused)
    except BaseException:
        if _Pass.depth == 1:
            _Pass.callbacks.clear()
        raise
    finally:
        _Pass.depth -= 1
    if not _Pass.depth:
        try:
            while _Pass.callbacks:
                _Pass.callbacks.pop(0)()
        finally:
            _Pass.callbacks.clear()
    return result


def _run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs, allow_unused):
    """Backpropagate from ``tensors``; accumulate into leaves, or return input grads.

    With ``inputs`` (as ``autograd.grad``), gradients flowing into those tensors are
    returned instead of accumulated, and only the part of the graph that reaches
    them runs.
    """
    if retain_graph is None:
        retain_graph = create_graph
    roots = _check_roots(tensors, grad_tensors)
    buffers = {}
    for (node, idx), g in roots:
        buf = buffers.setdefault(node, [None] * node.n_outputs)
        buf[idx] = _add(buf[idx], g)
    root_nodes = list(buffers)
    deps, reachable = _dependencies(root_nodes)

    captures = None
    if inputs is not None:
        captures = {}
        for i, t in enumerate(inputs):
            e = edge_of(t)
            if e is None:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            captures.setdefault(e, []).append(i)
        targets = {e[0] for e in captures}
        needed = _reaching(root_nodes, targets)
        results = [None] * len(inputs)

    prev_mode = MODE.enabled
    MODE.enabled = create_graph
    try:
        ready = [n for n in root_nodes if deps.get(n, 0) == 0]
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)
            hooks = node._pre_hooks
            if hooks:
                for idx, fns in hooks.items():
                    for fn in fns:
                        if grads[idx] is not None:
                            new = fn(grads[idx])
                            if new is not None:
                                grads[idx] = new
            if captures is not None:
                for idx, g in enumerate(grads):
                    for i in captures.get((node, idx), ()):
                        results[i] = g
                if node not in needed or isinstance(node, AccumulateGrad):
                    _release_children(node, deps, ready, buffers)
                    continue
            if isinstance(node, AccumulateGrad):
                if grads[0] is not None:
                    node.accumulate(grads[0], create_graph)
                continue
            if grads[0] is None and (len(grads) == 1 or all(g is None for g in grads)):
                in_grads = (None,) * len(node.next_edges)
            else:
                in_grads = node.apply(grads)
            if not retain_graph:
                node.release()
            for e, g in zip(node.next_edges, in_grads):
                if e is None:
                    continue
                nxt, idx = e
                if g is not None:
                    buf = buffers.get(nxt)
                    if buf is None:
                        buf = buffers[nxt] = [None] * nxt.n_outputs
                        buf[idx] = g
                    else:
                        old = buf[idx]
                        buf[idx] = g if old is None else grad_sum(old, g)
                left = deps[nxt] - 1
                deps[nxt] = left
                if left == 0:
                    if nxt in buffers:
                        ready.append(nxt)
                    else:
                        _release_children(nxt, deps, ready, buffers)
            # the buffers hold what is still needed; a leaf may now take a gradient
            # that nothing else references as its .grad, without a copy
            in_grads = buf = g = old = None
    finally:
        MODE.enabled = prev_mode

    if captures is not None:
        for i, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    f"the graph. Set allow_unused=True if this is the desired behavior."
                )
        return tuple(results)
    return None


def _release_children(node, deps, ready, buffers):
    """A node that received no gradient still counts as done for its inputs; an input
    left with no pending edges runs if gradient reached it along another path."""
    stack = [node]
    while stack:
        n = stack.pop()
        for e in n.next_edges:
            if e is None:
                continue
            nxt = e[0]
            left = deps[nxt] - 1
            deps[nxt] = left
            if left == 0:
                if nxt in buffers:
                    ready.append(nxt)
                else:
                    stack.append(nxt)
