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
"""

#: Threads per block.
BLOCK = 256

#: Most blocks per launch: beyond it the grid-stride loop gives threads several items.
MAX_BLOCKS = 4096

#: The loop header every kernel wraps its work in: ``i`` runs over ``[0, n)``.
GRID_STRIDE_LOOP = ("for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;"
                    " i += (long long)gridDim.x * blockDim.x)")


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
