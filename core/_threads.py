"""How many threads ember's CPU work uses: its OpenMP kernels and the BLAS under NumPy and SciPy.

Each of those libraries has its own thread pool (NumPy's and SciPy's
OpenBLAS, the OpenMP runtime of the Cython kernels); ``threadpoolctl``
finds the ones loaded in the process and sets them all. Libraries loaded
later (SciPy's BLAS comes with the first kernel that needs it) read their
thread count from the environment when they load, so the same count is
written to ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``/``MKL_NUM_THREADS``
too (which processes started afterwards inherit).
"""

import contextlib
import numbers
import os
import sys
import threading

_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_requested = None


def set_num_threads(n):
    """Use ``n`` threads for ember's parallel CPU kernels and for matrix products (BLAS).

    Args:
        n (int): a positive number of threads.

    Examples::

        >>> ember.set_num_threads(1)
        >>> ember.get_num_threads()
        1
    """
    global _requested
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n}")
    n = int(n)
    for name in _ENV:
        os.environ[name] = str(n)
    _threadpoolctl().threadpool_limits(limits=n)
    _requested = n


def get_num_threads():
    """The number of threads ember's CPU kernels and BLAS use: the last ``set_num_threads``
    value, else what the OpenMP runtime (or, without one, the BLAS) uses by default."""
    if _requested is not None:
        return _requested
    pools = _threadpoolctl().threadpool_info()
    for api in ("openmp", "blas"):
        counts = [pool["num_threads"] for pool in pools if pool["user_api"] == api]
        if counts:
            return max(counts)
    return 1


def is_fixed():
    """Whether ``set_num_threads`` chose the thread count (nothing else may change it then)."""
    return _requested is not None


def _threadpoolctl():
    # Imported on first use: it inspects the loaded libraries, which ``import ember`` does not need.
    try:
        import threadpoolctl
    except ImportError as error:
        raise RuntimeError("ember's thread settings need the threadpoolctl package "
                           "(pip install threadpoolctl)") from error
    return threadpoolctl


_one_thread = {"pools": None, "modules": -1, "users": 0, "limit": None}
_one_thread_lock = threading.Lock()


@contextlib.contextmanager
def one_blas_thread():
    """A context in which every BLAS loaded in the process runs on the calling thread.

    For kernels whose OpenMP threads make products of their own: a BLAS that started
    threads for each of them would oversubscribe the cores, and a BLAS thread woken by
    any product keeps spinning on a core the kernels' threads need. Calls from several
    Python threads share one limit, lifted when the last one leaves. The BLAS
    libraries are looked up again after new modules were imported (SciPy's comes with
    the first kernel that needs it)."""
    with _one_thread_lock:
        if _one_thread["users"] == 0:
            if _one_thread["modules"] != len(sys.modules):
                controller = _threadpoolctl().ThreadpoolController()
                _one_thread["pools"] = controller.select(user_api="blas")
                _one_thread["modules"] = len(sys.modules)
            _one_thread["limit"] = _one_thread["pools"].limit(limits=1)
        _one_thread["users"] += 1
    try:
        yield
    finally:
        with _one_thread_lock:
            _one_thread["users"] -= 1
            if _one_thread["users"] == 0:
                _one_thread["limit"].restore_original_limits()
