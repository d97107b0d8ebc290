# Shared declarations of every Cython kernel file (backends/cpu, plugins/<family>):
# the element types, the one thread policy, and small helpers.  Each kernel file
# cimports what it uses (``from ember_cython cimport floating, num_threads_for``);
# setup.py puts this folder on cythonize's include path.  Only types, constants and
# inline functions live here, so no module is imported at run time.
from libc.stdint cimport int64_t

# The float dtypes the kernels compute in (others are converted by the wrappers).
ctypedef fused floating:
    float
    double

# The element type of every index array a kernel takes (torch's int64 "long").
ctypedef int64_t index_t

# Built without -fopenmp (a compiler lacking OpenMP) the prange loops run serially
# and the process has one kernel thread. The block also defines EMBER_SIMD_CLONES
# for the C vector loops of the kernel files.
cdef extern from *:
    """
    /* A function marked EMBER_SIMD_CLONES is built, on x86-64 Linux with GCC, for
       AVX-512, AVX2 and SSE2, and the CPU's best is picked when the module loads
       (target_clones): the C vector loops of the plugin kernels use the wide
       instructions while the rest of the build stays portable. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define EMBER_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
    #else
    #define EMBER_SIMD_CLONES
    #endif
    #ifdef _OPENMP
    #include <omp.h>
    #define EMBER_HAVE_OPENMP 1
    static int ember_max_threads(void) { return omp_get_max_threads(); }
    #else
    #define EMBER_HAVE_OPENMP 0
    static int ember_max_threads(void) { return 1; }
    #endif
    """
    const int EMBER_HAVE_OPENMP
    # the calling thread's OpenMP limit: what ember.set_num_threads set (through
    # threadpoolctl), else OMP_NUM_THREADS, else the number of cores
    int max_threads "ember_max_threads"() noexcept nogil


cdef enum:
    # Work is counted in element operations (an element read, combined and
    # written).  Below this much a thread team costs more to start (and, on a busy
    # machine, to wait for) than it saves.
    PARALLEL_MIN_WORK = 32768
    # A libm call (exp, log, ...) counts as this many element operations.
    LIBM_CALL_WORK = 8


cdef inline int num_threads_for(Py_ssize_t items, Py_ssize_t work) noexcept nogil:
    """Threads for a ``prange`` over ``items`` independent pieces of ``work`` element
    operations in all: one for small work, else the OpenMP limit (at most one per item)."""
    if items < 2 or work < PARALLEL_MIN_WORK:
        return 1
    cdef int limit = max_threads()
    return limit if limit < items else <int>items


cdef inline Py_ssize_t imin(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return a if a < b else b


cdef inline Py_ssize_t imax(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return a if a > b else b


cdef inline Py_ssize_t first_out_of_range(const index_t[::1] idx, index_t n) noexcept nogil:
    """Position of the first entry of ``idx`` outside ``[0, n)``, or -1 when all are inside.
    The common case (all inside) is one branch-free pass: a negative entry, cast to
    unsigned, is as out of range as one too large."""
    cdef Py_ssize_t i, m = idx.shape[0]
    cdef size_t limit = <size_t>n
    cdef unsigned char outside = 0
    for i in range(m):
        outside |= <size_t>idx[i] >= limit
    if not outside:
        return -1
    for i in range(m):
        if <size_t>idx[i] >= limit:
            return i
    return -1


cdef inline object size_of(object shape):
    """The number of elements of ``shape`` (a Python int: no overflow)."""
    n = 1
    for s in shape:
        n *= int(s)
    return n


cdef inline tuple pad3(object values, object fill):
    """``values`` as three ints, ``fill`` prepended: 1-d and 2-d geometry as 3-d."""
    values = tuple([int(v) for v in values])
    return (fill,) * (3 - len(values)) + values
