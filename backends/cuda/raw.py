"""What the cuda backend's RawKernels share: the launch of a grid-stride loop and
one compiled kernel per float dtype from one CUDA C source.

A RawKernel is compiled for fixed C types, so a kernel written once for a
placeholder ``T`` is built twice, with ``typedef float T;`` or
``typedef double T;`` put before its source (:class:`FloatKernels`); the
compilation happens on the first call with that dtype, never at import.

Every kernel loops over its ``n`` work items with :data:`GRID_STRIDE_LOOP`
(``i`` the item), so a launch of :func:`blocks` ``(n)`` blocks of :data:`BLOCK`
threads covers any ``n``, 0 included. Scalars reach a kernel as the NumPy scalar
types of its C parameters (``xp.int64`` for ``long long``, the array's own
scalar type for ``T``): CuPy picks the C type of a bare Python number itself.

A *multi-tensor* kernel updates many arrays in one launch (every parameter of an
optimizer's group, say). It reads them through a device table of their addresses
(:class:`TensorTables`): the running totals of the tensors' sizes, then one
column of addresses per role (parameters, gradients, a state...). Work item ``i``
finds its tensor with :data:`TENSOR_OF` (a binary search over the totals) and its
offset in it; the tables are cached on the device by the addresses they hold, so
a training loop whose memory pool hands back the same addresses each step uploads
nothing after its first step.
"""

import numpy as np

from ember.cuda.graphs import keep_alive

#: Threads per block.
BLOCK = 256

#: Most blocks per launch: beyond it the grid-stride loop gives threads several items.
MAX_BLOCKS = 4096

#: The loop header every kernel wraps its work in: ``i`` runs over ``[0, n)``.
GRID_STRIDE_LOOP = ("for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;"
                    " i += (long long)gridDim.x * blockDim.x)")


def plane_position(names, sizes):
    """CUDA C (in a :data:`GRID_STRIDE_LOOP`) splitting item ``i`` of planes of three
    axes into its position, declared as the ``long long`` variables ``names`` (outer
    to inner), and ``const long long plane``; ``sizes`` name the axes' sizes."""
    (a, b, c), (na, nb, nc) = names, sizes
    return f"""
        long long {c} = i % {nc}, rest = i / {nc};
        long long {b} = rest % {nb}; rest /= {nb};
        long long {a} = rest % {na};
        const long long plane = rest / {na};"""


def blocks(n):
    """Blocks of :data:`BLOCK` threads for ``n`` work items: at least 1, at most
    :data:`MAX_BLOCKS`."""
    return max(1, min(-(-int(n) // BLOCK), MAX_BLOCKS))


def launch(kernel, n, args):
    """Run RawKernel ``kernel`` over ``n`` work items with arguments ``args``."""
    kernel((blocks(n),), (BLOCK,), tuple(args))


class FloatKernels:
    """Kernel ``name`` of the CUDA C ``source`` (written for a type ``T``), built for
    float32 and float64 on first use with each.

    Args:
        xp: the array namespace (``cupy``, or a stand-in with ``RawKernel``).
        source: CUDA C declaring ``extern "C" __global__ void name(...)``.
        name: the kernel's name (carry the ``ember_`` prefix).
    """

    def __init__(self, xp, source, name):
        self._xp, self._source, self.name = xp, source, name
        self._c_types = {xp.dtype(xp.float32): "float", xp.dtype(xp.float64): "double"}
        self._built = {}

    def kernel(self, dtype):
        """The RawKernel for float dtype ``dtype`` (built on first request)."""
        found = self._built.get(dtype)
        if found is None:
            source = f"typedef {self._c_types[dtype]} T;\n{self._source}"
            found = self._built[dtype] = self._xp.RawKernel(source, self.name)
        return found

    def __call__(self, dtype, n, args):
        """Run the ``dtype`` kernel over ``n`` work items with arguments ``args``."""
        launch(self.kernel(dtype), n, args)


class WidthKernels(FloatKernels):
    """Kernel ``name`` of a CUDA C ``source`` that only moves elements (copies them,
    writes ``T(0)``), built once per element width: ``T`` is the unsigned integer of
    the array's item size, so one build serves every dtype of that width (bool and
    the integers, float16, float32, float64, complex64), and zero bits are zero in
    all of them.

    Args and calls as :class:`FloatKernels`; :meth:`takes` says which dtypes fit.
    """

    #: Item size in bytes -> the C type that moves it.
    WIDTHS = {1: "unsigned char", 2: "unsigned short", 4: "unsigned int", 8: "unsigned long long"}

    def __init__(self, xp, source, name):
        super().__init__(xp, source, name)
        self._c_types = {xp.dtype(f"uint{8 * size}"): c for size, c in self.WIDTHS.items()}

    @classmethod
    def takes(cls, dtype):
        """True for the dtypes of a width the kernels move: bool, integers, floats, complex64."""
        return dtype.kind in "biufc" and dtype.itemsize in cls.WIDTHS

    def kernel(self, dtype):
        """The RawKernel moving elements of ``dtype`` (built on first request with its width)."""
        return super().kernel(self._xp.dtype(f"uint{8 * dtype.itemsize}"))


#: CUDA C of ``ember_tensor_of(ends, count, i)``: the tensor of a multi-tensor launch
#: holding work item ``i`` (``0 <= i < ends[count - 1]``), the first ``j`` with
#: ``ends[j] > i``, so an empty tensor is never picked; and ``ember_offset_in``, the
#: item's position inside that tensor.
TENSOR_OF = r"""
__device__ __forceinline__ long long ember_tensor_of(const long long* ends, long long count, long long i) {
    long long lo = 0, hi = count - 1;
    while (lo < hi) {
        const long long mid = lo + (hi - lo) / 2;
        if (ends[mid] > i) hi = mid; else lo = mid + 1;
    }
    return lo;
}
__device__ __forceinline__ long long ember_offset_in(const long long* ends, long long j, long long i) {
    return j == 0 ? i : i - ends[j - 1];
}
"""


def address(array):
    """The device address of ``array``'s first element: ``data.ptr`` of a CuPy array,
    ``ctypes.data`` of a NumPy one (the CPU emulator's device arrays)."""
    return array.ctypes.data if isinstance(array, np.ndarray) else array.data.ptr


def disjoint(arrays):
    """True when no two of the C-contiguous ``arrays`` share a byte (empty ones
    never do): a multi-tensor kernel may then write any of them while reading the others."""
    spans = sorted((address(a), a.nbytes) for a in arrays if a.nbytes)
    return all(start + size <= following for (start, size), (following, _) in zip(spans, spans[1:]))


class TensorTables:
    """Device tables of a multi-tensor kernel, cached by what they hold.

    :meth:`addresses` gives the int64 table ``[ends..., column 0..., column 1...]``
    of ``columns`` (lists of arrays, one entry per tensor); :meth:`values` a table of
    numbers; :meth:`workspace` a scratch array. Each is made (uploaded) on first
    request and kept while it is among the :attr:`KEEP` most recent, so a step
    that sees the same arrays again (the memory pool's usual behaviour) copies
    nothing to the device.

    Args:
        xp: the array namespace (``cupy``, or the CPU emulator's stand-in).
    """

    #: Tables kept per cache: enough for several parameter groups and dtypes.
    KEEP = 32

    def __init__(self, xp):
        self._xp = xp
        self._cache = {}

    def _get(self, key, build):
        found = self._cache.pop(key, None)  # re-inserted: the dict's order is recency
        if found is None:
            found = build()
            keep_alive(found)  # a graph being captured reads it at every replay
            while len(self._cache) >= self.KEEP:
                del self._cache[next(iter(self._cache))]
        self._cache[key] = found
        return found[0]

    def addresses(self, columns):
        """The table of ``columns``: the running totals of the first column's sizes,
        then each column's addresses (``count`` entries each)."""
        sizes = [a.size for a in columns[0]]
        key = ("addresses", tuple(sizes), *(tuple(address(a) for a in c) for c in columns))
        return self._get(key, lambda: upload(self._xp, np.concatenate(
            [np.cumsum(sizes, dtype=np.int64)] + [np.array(c, np.int64) for c in key[2:]])))

    def values(self, numbers, dtype):
        """A device array of ``numbers`` (a flat sequence) in ``dtype``."""
        key = ("values", np.dtype(dtype).str, tuple(numbers))
        return self._get(key, lambda: upload(self._xp, np.array(numbers, dtype)))

    def workspace(self, size, dtype):
        """A device array of ``size`` elements of ``dtype`` for a kernel to write and
        a later launch to read (the same one each time: a CUDA graph may hold it)."""
        return self._get(("workspace", size, np.dtype(dtype).str), lambda: (self._xp.empty(size, dtype),))


def upload(xp, host):
    """``(device copy of the NumPy array host, its staging buffer)``, for a kernel's
    cached tables: on a GPU the copy is queued on the current stream from a pinned
    buffer (the caller keeps the pair, so the buffer outlives the queued copy), which
    a CUDA graph capturing the copy reads again at each replay (a copy from pageable
    memory cannot be captured) and therefore keeps alive too. Other namespaces (the
    CPU emulator's, the tests' stand-ins) get a plain copy."""
    if getattr(xp, "__name__", None) != "cupy":
        return xp.asarray(host), None
    import cupyx

    staged = cupyx.empty_pinned(host.shape, host.dtype)
    staged[...] = host
    device = xp.empty(host.shape, host.dtype)
    device.set(staged)
    keep_alive(device, staged)
    return device, staged
