"""What a plugin returns from ``ember_register_kernels``: the one way kernels enter ember.

The hook returns a mapping ``(op, backend) -> kernel``:

* ``backend`` is a backend's name (``"cpu"``, ``"cuda"``) for a kernel written for
  that backend's arrays, or :data:`GENERIC` for a kernel written against the array
  namespace. A generic entry is a *factory*: it takes the namespace ``xp``
  (``numpy``, ``cupy``) and returns the callable, so one entry serves every backend.
* ``kernel`` is the callable itself, or :func:`kernel` around it to say more: which
  arguments it takes (``accepts``; the generic kernel gets the others), whether
  it deliberately replaces another plugin's kernel for the same key (``override``),
  and whether it is a factory of the backend's array namespace (``factory``): the
  cuda backend's kernels are, so that they build their CuPy kernel objects on first
  use, and tests build them with a CPU stand-in for ``cupy`` as well.

Every entry is recorded with the plugin that returned it (``python -m ember
--kernels`` lists them), disappears when that plugin is disabled, and two plugins
claiming one key make the later one fail to load, unless exactly one of them says
``override=True``.
"""

__all__ = ["GENERIC", "Kernel", "built", "kernel", "table", "contiguous_floats", "floating"]

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

#: The backend name under which array-namespace kernels (factories of ``xp``) are registered.
GENERIC = "generic"


class Kernel:
    """A registered kernel: the callable (a factory of ``xp`` for :data:`GENERIC`, or
    where ``factory`` says so), the predicate saying which calls it takes, and whether
    it is an explicit override."""

    __slots__ = ("fn", "accepts", "override", "factory")

    def __init__(self, fn, accepts=None, override=False, factory=False):
        if not callable(fn):
            raise TypeError(f"a kernel must be callable, not {type(fn).__name__}")
        if accepts is not None and not callable(accepts):
            raise TypeError(f"accepts must be callable or None, not {type(accepts).__name__}")
        self.fn = fn
        self.accepts = accepts
        self.override = bool(override)
        self.factory = bool(factory)

    def __repr__(self):
        extra = (", accepts=" + getattr(self.accepts, "__name__", "?")) if self.accepts else ""
        return f"Kernel({getattr(self.fn, '__name__', self.fn)!s}{extra}{', override' if self.override else ''})"


def kernel(fn, *, accepts=None, override=False, factory=False):
    """Describe a kernel for ``ember_register_kernels``.

    Args:
        fn: the kernel (for the :data:`GENERIC` backend: a factory taking ``xp``).
        accepts: optional ``accepts(*args) -> bool``, called with the
            kernel's own arguments; where it says False, the call goes to the generic
            kernel of the same op instead (a Cython loop that takes contiguous
            float32/float64 arrays only, say). There must be a generic kernel then.
        override: True to replace the kernel another plugin registered for the same
            ``(op, backend)``; without it, such a clash refuses the later plugin.
        factory: True when ``fn`` takes the backend's array namespace and returns
            the kernel, as a generic entry does; it is built once per backend, on the
            op's first use.
    """
    return Kernel(fn, accepts=accepts, override=override, factory=factory)


def built(entry, xp):
    """The callable a registered ``entry`` (a :class:`Kernel`) stands for on a backend
    whose array namespace is ``xp``."""
    return entry.fn(xp) if entry.factory else entry.fn


def table(generic=None, **by_backend):
    """The mapping ``ember_register_kernels`` returns, from one ``op -> kernel`` dict
    per backend: ``generic`` for the array-namespace factories, and a keyword per
    backend name (``cpu={...}``, ``cuda={...}``)."""
    kernels = {(op, GENERIC): fn for op, fn in (generic or {}).items()}
    for backend, ops in by_backend.items():
        kernels.update({(op, backend): fn for op, fn in ops.items()})
    return kernels


def floating(a):
    """True when array ``a`` is float32 or float64, the dtypes the Cython loops
    compute in (a comparison of dtype objects: ``dtype.name`` is a Python property
    that cost 2-3 us per call)."""
    return a.dtype in _FLOATS


def contiguous_floats(*args):
    """True when every array among the arguments is C-contiguous, aligned, native
    float32/float64 of the first array's dtype and shape (other arguments, scalars
    say, are not looked at): what the element-wise Cython loops take. Use it as
    ``accepts``; it runs on every call, so it is written for speed (the CPU backend
    runs a compiled copy, ``_kernels.contiguous_floats``)."""
    first = None
    for a in args:
        flags = getattr(a, "flags", None)
        if flags is None:
            continue
        if not (flags.c_contiguous and flags.aligned):
            return False
        if first is None:
            if a.dtype not in _FLOATS:
                return False
            first = a
        elif a.dtype != first.dtype or a.shape != first.shape:
            return False
    return first is not None
