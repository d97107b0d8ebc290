"""``ember.linalg``: the linear-algebra functions under torch.linalg's names and signatures."""

import collections

import numpy as _np

from ._ops import decompositions as _d
from ._ops.common import check_tensor as _check_tensor
from ._ops.decompositions import LinAlgError, matrix_power, slogdet, solve, solve_triangular
from ._tensor import Tensor
from .backend import check_same_device

det = _d.det
inv = _d.inverse

_svd_result = collections.namedtuple("linalg_svd", ["U", "S", "Vh"])
_qr_result = collections.namedtuple("linalg_qr", ["Q", "R"])


def svd(A, full_matrices=True):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh`` (all singular vectors by default)."""
    U, S, V = _d.svd(A, some=not full_matrices)
    return _svd_result(U, S, V.mT)


def svdvals(A):
    """The singular values of A, in descending order."""
    return _d.svd(A, compute_uv=False).S


def qr(A, mode="reduced"):
    """``(Q, R)`` with ``A = Q R``; ``mode`` is ``"reduced"`` or ``"complete"``."""
    if mode not in ("reduced", "complete"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                           "'complete'")
    return _qr_result(*_d.qr(A, some=mode == "reduced"))


def cholesky(A, *, upper=False):
    """The lower (or ``upper``) Cholesky factor of a symmetric positive-definite matrix."""
    return _d._cholesky("linalg.cholesky", A, upper)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The pseudo-inverse; singular values at most ``max(atol, rtol * largest)`` count as
    zero. ``atol`` and ``rtol`` are numbers or tensors broadcasting against the batch
    dims; without ``rtol`` it is the dtype's epsilon times the larger matrix size, or 0
    where ``atol`` is given and positive."""
    _check_tensor(A, "A")
    xp = A._be.xp
    atol, rtol = (_tolerance(A, t) for t in (atol, rtol))
    if rtol is None:
        default = float(_np.finfo(A._data.dtype).eps) * max(A._data.shape[-2:], default=0)
        rtol = default if atol is None else xp.where(xp.asarray(atol) > 0, 0.0, default)
    return _d.pseudo_inverse(A, 0.0 if atol is None else atol, rtol, hermitian)


def _tolerance(A, value):
    """A tolerance of :func:`pinv` as a number, or a tensor's array on ``A``'s device
    with a trailing dim to broadcast against the singular values."""
    if not isinstance(value, Tensor):
        return value
    check_same_device(A, value)
    return value._data.astype(A._data.dtype)[..., None]


__all__ = ["LinAlgError", "cholesky", "det", "inv", "matrix_power", "pinv", "qr", "slogdet", "solve",
           "solve_triangular", "svd", "svdvals"]
