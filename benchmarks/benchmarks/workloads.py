"""Workloads shared by the asv suite and ``ratio.py``, written once for ember and torch.

Each builder takes the library (``ember`` or ``torch``), a device name and a size,
makes seeded float32 inputs, and returns a function of no arguments that runs the
workload once. Nothing here synchronises a GPU; the caller does.
"""

#: Ops in one ``chain`` call: ten elementwise ops and a sum.
CHAIN_OPS = 11


def chain(x, y):
    """Ten elementwise ops and a sum; on small tensors the cost is per-op overhead."""
    a = (x * y + x).sigmoid()
    a = (a * y).tanh() - x
    a = (a.exp() * x).relu() + y
    return a.sum()


def _randn(lib, device, *shape, requires_grad=False):
    return lib.randn(*shape, device=device, requires_grad=requires_grad)


def chain_forward(lib, device, size):
    """``chain`` on two (size, size) leaves that require grad, run under ``no_grad``."""
    lib.manual_seed(0)
    x, y = (_randn(lib, device, size, size, requires_grad=True) for _ in range(2))

    def run():
        with lib.no_grad():
            chain(x, y)

    return run


def chain_backward(lib, device, size):
    """``chain`` on two (size, size) leaves, then ``.backward()`` into fresh ``.grad``."""
    lib.manual_seed(0)
    x, y = (_randn(lib, device, size, size, requires_grad=True) for _ in range(2))

    def run():
        x.grad = y.grad = None
        chain(x, y).backward()

    return run


def sigmoid_forward(lib, device, size):
    """Sigmoid of ``size`` elements, no autograd."""
    lib.manual_seed(0)
    return _randn(lib, device, size).sigmoid


def sigmoid_backward(lib, device, size):
    """Sigmoid of ``size`` elements and its gradient (forward + backward)."""
    lib.manual_seed(0)
    x = _randn(lib, device, size, requires_grad=True)
    g = _randn(lib, device, size)
    return lambda: lib.autograd.grad(x.sigmoid(), x, g)


def tanh_backward(lib, device, size):
    """The backward of tanh alone, through a graph built once and kept."""
    lib.manual_seed(0)
    x = _randn(lib, device, size, requires_grad=True)
    g = _randn(lib, device, size)
    y = x.tanh()
    return lambda: lib.autograd.grad(y, x, g, retain_graph=True)


def matmul_forward(lib, device, size):
    """(size, size) @ (size, size), no autograd."""
    lib.manual_seed(0)
    a, b = (_randn(lib, device, size, size) for _ in range(2))
    return lambda: a @ b


def matmul_backward(lib, device, size):
    """(size, size) @ (size, size) and the gradients of both factors (three matmuls)."""
    lib.manual_seed(0)
    a, b = (_randn(lib, device, size, size, requires_grad=True) for _ in range(2))
    g = _randn(lib, device, size, size)
    return lambda: lib.autograd.grad(a @ b, (a, b), g)
