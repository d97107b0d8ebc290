"""``ember.backends.cudnn``: the cuDNN switches that PyTorch scripts set.

Scripts written for PyTorch often start with ``torch.backends.cudnn.benchmark = True``
or ``deterministic = True``. ember accepts these flags as plain module attributes:
on the CPU they change nothing; they are kept for the cuda backend, whose
convolutions may consult them.

Attributes:
    enabled: use cuDNN kernels where the cuda backend has them (default True).
    benchmark: let cuDNN time several algorithms and keep the fastest (default False).
    deterministic: ask for algorithms that give the same result on every run
        (default False).
    allow_tf32: let convolutions on a GPU compute float32 products on
        TensorFloat-32 units (inputs rounded to 10 mantissa bits, float32 sums):
        several times the float32 rate, about 1e-3 relative error (default True, as
        in torch).
"""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def _cudnn():
    """CuPy's cuDNN bindings when the cuda backend is usable and CuPy has them, else None."""
    import ember

    if not ember.cuda.is_available():
        return None
    try:
        from cupy.cuda import cudnn
    except ImportError:
        return None
    return cudnn


def is_available():
    """True when the cuda backend is available (a GPU seen through CuPy) and CuPy
    provides cuDNN."""
    return _cudnn() is not None


def version():
    """The cuDNN version as an integer (e.g. 8902), or None without CuPy, a GPU or cuDNN."""
    cudnn = _cudnn()
    return None if cudnn is None else int(cudnn.getVersion())
