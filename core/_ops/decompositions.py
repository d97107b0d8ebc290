"""Linear algebra on (batches of) matrices: determinants, inverse, solves, and the SVD,
QR and Cholesky decompositions, with NumPy's (or CuPy's) ``linalg`` doing the work.

Every backward is written with differentiable ops (most read the op's own outputs
back), so derivatives of any order exist where the formulas are smooth.
"""

import collections

import numpy as np

from ..autograd.graph import Node
from .common import (_make, broadcast_error, check_tensor, needs_grad, record,
                     record_with_output, sum_to)
from .join import cat
from .linalg import matmul
from .matrix import diag_embed, tril, triu
from .select import where


class LinAlgError(RuntimeError):
    """A matrix could not be factored or inverted (singular, not positive-definite)."""


svd_result = collections.namedtuple("svd", ["U", "S", "V"])
qr_result = collections.namedtuple("qr", ["Q", "R"])
slogdet_result = collections.namedtuple("slogdet", ["sign", "logabsdet"])
triangular_solve_result = collections.namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


# ----------------------------------------------------------------- checks
def check_matrices(name, A, square=True, floating=True):
    """torch's checks of a (batch of) matrix argument: rank, dtype, squareness."""
    check_tensor(A, "A")
    shape = A._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if floating and A._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {A.dtype.scalar_name}")
    if floating and A._data.dtype.itemsize < 4:
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got {A.dtype.scalar_name}")
    if square and shape[-1] != shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{shape[-2]} by {shape[-1]} matrices")


def _batch_prefix(data, index):
    return f"(Batch element {index}): " if data.ndim > 2 else ""


def _fails(fn, matrix):
    try:
        fn(matrix)
    except np.linalg.LinAlgError:
        return True
    return False


def _lapack(name, fn, data, describe, check=None):
    """``fn(data)``; a LAPACK failure becomes LinAlgError naming the first matrix of the
    batch for which ``check`` (default ``fn``) fails, with ``describe(matrix)``'s text."""
    try:
        return fn(data)
    except np.linalg.LinAlgError:
        flat = data.reshape((-1,) + data.shape[-2:])
        index = next((i for i in range(flat.shape[0]) if _fails(check or fn, flat[i])), 0)
        raise LinAlgError(f"{name}: {_batch_prefix(data, index)}{describe(flat[index])}") from None


def _same_dtype(name, A, B):
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{name}: Expected A and B to have the same dtype, but found A of type "
                           f"{A.dtype.scalar_name} and B of type {B.dtype.scalar_name} instead.")


# ----------------------------------------------------------------- several outputs
class _MultiOutput(Node):
    """A node with several outputs that its backward reads back (as tensors whose
    history is this node, so the backward is differentiable through them)."""

    def keep(self, outputs):
        self._be = outputs[0]._be
        self._kept = [(o._data, o._out_idx, o._version_box(), o._version_box()[0]) for o in outputs]

    def kept(self):
        self.saved()  # raises if the graph was freed
        outs = []
        for data, idx, box, version in self._kept:
            if box[0] != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: output {idx} of {self.name()} is at version {box[0]}; expected version "
                    f"{version} instead.")
            t = _make(data, self._be)
            t._rg, t.grad_fn, t._out_idx, t._vc = True, self, idx, box
            outs.append(t)
        return outs

    def release_extra(self):
        self._kept = None


def _record_outputs(node, datas, be, inputs):
    """Tensors for each of ``datas``, all produced by ``node``."""
    node.n_outputs = len(datas)
    outs = [record(node, datas[0], be, inputs)]
    for i, data in enumerate(datas[1:], 1):
        t = _make(data, be)
        t._rg, t.grad_fn, t._out_idx = True, node, i
        outs.append(t)
    node.save(*inputs)
    node.keep(outs)
    return outs


def _eye_like(A):
    n = A._data.shape[-1]
    return _make(A._be.xp.eye(n, dtype=A._data.dtype), A._be)


# ----------------------------------------------------------------- determinants
class LinalgDetBackward0(Node):
    """``d det(A) / dA`` is the cofactor matrix: ``det(A) A^-T`` for invertible A, and
    ``U diag(prod of the other singular values) V^T`` (signed) when A is singular."""

    def backward(self, g):
        (A,) = self.saved()
        xp = A._be.xp
        s = xp.linalg.svd(A._data, compute_uv=False)
        n = A._data.shape[-1]
        if not n or (s[..., -1] > s[..., 0] * n * np.finfo(s.dtype).eps).all():
            d = self.saved_output()
            return ((g * d).unsqueeze(-1).unsqueeze(-1) * inverse(A).mT,)
        return (_singular_cofactors(A, g),)


def _singular_cofactors(A, g):
    """``g`` times the cofactor matrix of A, from its SVD (valid for any A)."""
    U, S, V = svd(A)
    n = S._data.shape[-1]
    spread = S.unsqueeze(-2).expand(S._data.shape[:-1] + (n, n))
    others = where(_make(A._be.xp.eye(n, dtype=bool), A._be), 1.0, spread).prod(-1)  # all but the i-th
    sign = _make(A._be.xp.linalg.det(U._data) * A._be.xp.linalg.det(V._data), A._be)
    weights = others * (g * sign).unsqueeze(-1)
    return matmul(U * weights.unsqueeze(-2), V.mT)


def det(A):
    """Determinant of a square matrix (or of each one in a batch)."""
    check_matrices("linalg.det", A)
    be = A._be
    data = be.xp.linalg.det(A._data)
    if needs_grad(A):
        return record_with_output(LinalgDetBackward0(), data, A)
    return _make(data, be)


class LinalgSlogdetBackward0(_MultiOutput):
    """The sign is locally constant; ``d log|det A| / dA = A^-T``."""

    def apply(self, grads):
        g = grads[1]
        if g is None:
            return (None,)
        (A,) = self.saved()
        return (g.unsqueeze(-1).unsqueeze(-1) * inverse(A).mT,)


def slogdet(A):
    """``(sign, logabsdet)``: the sign of the determinant and the log of its absolute value
    (``-inf`` for a singular matrix), which stays finite where the determinant overflows."""
    check_matrices("linalg.slogdet", A)
    be = A._be
    sign, logabs = be.xp.linalg.slogdet(A._data)
    datas = [be.xp.asarray(sign), be.xp.asarray(logabs)]
    if needs_grad(A):
        return slogdet_result(*_record_outputs(LinalgSlogdetBackward0(), datas, be, (A,)))
    return slogdet_result(*[_make(d, be) for d in datas])


def logdet(A):
    """Log of the determinant: NaN where it is negative, ``-inf`` where it is zero."""
    check_matrices("logdet", A)
    sign, logabs = slogdet(A)
    return where(sign < 0, float("nan"), logabs)


# ----------------------------------------------------------------- inverse and solves
class LinalgInvExBackward0(Node):
    def backward(self, g):
        Y = self.saved_output().mT
        return (-matmul(matmul(Y, g), Y),)


def _singular(matrix):
    return "The inversion could not be completed because the input matrix is singular."


def inverse(A):
    """Inverse of a square matrix (or of each one in a batch); a singular matrix raises
    ``LinAlgError``."""
    check_matrices("linalg.inv", A)
    be = A._be
    data = _lapack("linalg.inv", be.xp.linalg.inv, A._data, _singular)
    if needs_grad(A):
        node = LinalgInvExBackward0()
        out = record(node, data, be, (A,))
        node.save_output(out)
        return out
    return _make(data, be)


class LinalgSolveExBackward0(Node):
    """``X = A^-1 B``: ``dB = A^-T g``, ``dA = -dB X^T`` (summed over broadcast batch dims)."""

    def backward(self, g):
        A, B = self.saved()
        gB = _solve(A.mT, g)
        gA = None
        if self.needs[0]:
            gA = sum_to(-matmul(gB, self.saved_output().mT), A._data.shape)
        return gA, sum_to(gB, B._data.shape) if self.needs[1] else None


def _solve(A, B):
    """``A^-1 B`` for (batches of) square A and matrices B, batch dims broadcast."""
    be, xp = A._be, A._be.xp
    err = broadcast_error(A._data.shape[:-2], B._data.shape[:-2])
    if err is not None:
        raise err
    batch = np.broadcast_shapes(A._data.shape[:-2], B._data.shape[:-2])
    a = xp.broadcast_to(A._data, batch + A._data.shape[-2:])
    b = xp.broadcast_to(B._data, batch + B._data.shape[-2:])
    data = _lapack("torch.linalg.solve", lambda m: xp.linalg.solve(m, b), a,
                   lambda m: "The solver failed because the input matrix is singular.", check=xp.linalg.inv)
    if needs_grad(A, B):
        node = LinalgSolveExBackward0()
        node.needs = (A._rg, B._rg)
        node.save(A, B)
        out = record(node, data, be, (A, B))
        node.save_output(out)
        return out
    return _make(data, be)


def solve(A, B, *, left=True):
    """The solution X of ``A X = B`` (``X A = B`` with ``left=False``) for square A; B may
    be a vector (or a batch of them) and batch dims broadcast."""
    check_matrices("linalg.solve", A)
    check_tensor(B, "B")
    _same_dtype("linalg.solve", A, B)
    shape = B._data.shape
    vector = len(shape) == 1 or (len(shape) == A._data.ndim - 1 and shape == A._data.shape[:-1])
    if vector:
        B = B.unsqueeze(-1 if left else -2)
    elif len(shape) < 2:
        raise RuntimeError("linalg.solve: The input tensor B must have at least 1 dimension.")
    n = A._data.shape[-1]
    size = B._data.shape[-2] if left else B._data.shape[-1]
    if size != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B._data.shape[-2]}x{B._data.shape[-1]})")
    X = _solve(A, B) if left else _solve(A.mT, B.mT).mT
    return X.squeeze(-1 if left else -2) if vector else X


def _triangle_of(A, upper, unitriangular):
    T = triu(A) if upper else tril(A)
    if unitriangular:
        T = T - diag_embed(T.diagonal(0, -2, -1)) + _eye_like(A)
    return T


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """``solve`` where A is triangular: only its ``upper`` (or lower) triangle is read, and
    with ``unitriangular`` its diagonal counts as ones."""
    check_matrices("linalg.solve_triangular", A)
    check_tensor(B, "B")
    if B._data.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    return solve(_triangle_of(A, upper, unitriangular), B, left=left)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """``(solution, cloned_coefficient)``: X with ``T X = b`` (``T^T X = b`` with
    ``transpose``), T the upper (or lower) triangle of A, and a copy of A."""
    check_matrices("triangular_solve", A)
    check_tensor(b, "b")
    if b._data.ndim < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has "
                           f"{b._data.ndim} dimensions instead")
    T = _triangle_of(A, upper, unitriangular)
    X = solve(T.mT if transpose else T, b)
    return triangular_solve_result(X, A.expand(X._data.shape[:-2] + A._data.shape[-2:]).clone())


def _cholesky_factor_checks(name, B, L):
    check_tensor(B, "B")
    check_matrices(name, L)
    if B._data.ndim < 2:
        raise RuntimeError(f"{name}: b should have at least 2 dimensions, but has {B._data.ndim} dimensions instead")
    _same_dtype(name, L, B)


def cholesky_solve(B, L, upper=False):
    """The solution X of ``A X = B`` given the Cholesky factor of A (``A = L L^T``, or
    ``A = U^T U`` with ``upper``)."""
    _cholesky_factor_checks("cholesky_solve", B, L)
    if upper:
        return solve(L, solve(L.mT, B))
    return solve(L.mT, solve(L, B))


def cholesky_inverse(L, upper=False):
    """The inverse of ``A = L L^T`` (``U^T U`` with ``upper``) from its Cholesky factor."""
    check_matrices("cholesky_inverse", L)
    inv = inverse(L)
    return matmul(inv, inv.mT) if upper else matmul(inv.mT, inv)


# ----------------------------------------------------------------- SVD
class LinalgSvdBackward0(_MultiOutput):
    """The standard SVD gradient (reduced factors; full ones are narrowed to them)."""

    def apply(self, grads):
        gU, gS, gV = grads
        U, S, V = self.kept()
        k = S._data.shape[-1]
        if self.full:
            U, V = U[..., :k], V[..., :k]
            gU = None if gU is None else gU[..., :k]
            gV = None if gV is None else gV[..., :k]
        if gU is None and gV is None:
            return (matmul(U * gS.unsqueeze(-2), V.mT),)
        m, n = U._data.shape[-2], V._data.shape[-2]
        S2 = S * S
        E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + _make(S._be.xp.eye(k, dtype=S._data.dtype), S._be)
        inner = None
        if gU is not None:
            UgU = matmul(U.mT, gU)
            inner = (UgU - UgU.mT) / E * S.unsqueeze(-2)
        if gV is not None:
            VgV = matmul(V.mT, gV)
            term = S.unsqueeze(-1) * ((VgV - VgV.mT) / E)
            inner = term if inner is None else inner + term
        if gS is not None:
            inner = inner + diag_embed(gS)
        if m > n and gU is not None:
            gUSinv = gU / S.unsqueeze(-2)
            gA = matmul(U, inner) + gUSinv - matmul(U, matmul(U.mT, gUSinv))
            return (matmul(gA, V.mT),)
        if m < n and gV is not None:
            SinvgVt = gV.mT / S.unsqueeze(-1)
            gA = matmul(inner, V.mT) + SinvgVt - matmul(matmul(SinvgVt, V), V.mT)
            return (matmul(U, gA),)
        return (matmul(matmul(U, inner), V.mT),)


def _svd(A, full):
    be = A._be
    u, s, vh = be.xp.linalg.svd(A._data, full_matrices=full)
    datas = [u, s, be.xp.ascontiguousarray(vh.swapaxes(-1, -2))]
    if needs_grad(A):
        node = LinalgSvdBackward0()
        node.full = full
        return _record_outputs(node, datas, be, (A,))
    return [_make(d, be) for d in datas]


def svd(input, some=True, compute_uv=True):
    """``(U, S, V)`` with ``input = U diag(S) V^T``: S the singular values in descending
    order, U and V with orthonormal columns (``min(m, n)`` of them, or all with
    ``some=False``). With ``compute_uv=False`` U and V are zero-filled (m, m) and (n, n)
    matrices. Singular vectors are defined up to sign: compare sign-free quantities."""
    check_matrices("linalg.svd", input, square=False)
    if compute_uv:
        return svd_result(*_svd(input, not some))
    S = _svd(input, False)[1] if needs_grad(input) else _make(
        input._be.xp.linalg.svd(input._data, compute_uv=False), input._be)
    xp, (m, n) = input._be.xp, input._data.shape[-2:]
    batch = input._data.shape[:-2]
    zeros = [_make(xp.zeros(batch + (k, k), dtype=input._data.dtype), input._be) for k in (m, n)]
    return svd_result(zeros[0], S, zeros[1])


class LinalgPinvBackward0(Node):
    """Gradient of the pseudo-inverse P of A at constant rank (Golub and Pereyra):
    ``-P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)``."""

    def backward(self, g):
        (A,) = self.saved()
        P = self.saved_output()
        Pt, gt = P.mT, g.mT
        left = matmul(gt, matmul(P, Pt))
        right = matmul(matmul(Pt, P), gt)
        return (-matmul(matmul(Pt, g), Pt) + left - matmul(A, matmul(P, left))
                + right - matmul(matmul(right, P), A),)


def pinverse(input, rcond=1e-15):
    """The Moore-Penrose pseudo-inverse, from the SVD: singular values at most ``rcond``
    times the largest count as zero."""
    return pseudo_inverse(input, 0.0, rcond)


def pseudo_inverse(input, atol, rtol, hermitian=False):
    """The pseudo-inverse, singular values at most ``max(atol, rtol * largest)`` taken as
    zero; ``hermitian`` takes ``input`` as symmetric (its lower triangle) and uses its
    eigendecomposition."""
    check_matrices("linalg.pinv", input, square=hermitian)
    be, xp = input._be, input._be.xp
    a = input._data
    if hermitian:
        values, left = xp.linalg.eigh(a)
        right = left
    else:
        left, values, right = xp.linalg.svd(a, full_matrices=False)
        right = right.swapaxes(-1, -2)
    size = xp.abs(values)
    if values.shape[-1]:
        keep = (size > rtol * size.max(-1, keepdims=True)) & (size > atol)
        values = xp.where(keep, 1 / xp.where(keep, values, 1), 0)
    data = xp.matmul(right * values[..., None, :], left.swapaxes(-1, -2))
    if needs_grad(input):
        return record_with_output(LinalgPinvBackward0(), data, input)
    return _make(data, be)


# ----------------------------------------------------------------- QR
class LinalgQrBackward0(_MultiOutput):
    """QR gradient (Walter & Lehmann's formula); for wide A the trailing columns of R
    are handled as ``Q^T`` times the trailing columns of A."""

    def apply(self, grads):
        gQ, gR = grads
        Q, R = self.kept()
        m, n = Q._data.shape[-2], R._data.shape[-1]
        if self.complete and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if m >= n:
            return (_qr_square_backward(Q, R, gQ, gR),)
        (A,) = self.saved()
        Y = A[..., m:]
        gR1 = None if gR is None else gR[..., :m]
        gR2 = None if gR is None else gR[..., m:]
        if gR2 is not None:
            gQ = matmul(Y, gR2.mT) if gQ is None else gQ + matmul(Y, gR2.mT)
        gX = _qr_square_backward(Q, R[..., :m], gQ, gR1)
        gY = matmul(Q, gR2) if gR2 is not None else gX.new_zeros(Y.shape)
        return (cat([gX, gY], -1),)


def _qr_square_backward(Q, R, gQ, gR):
    """Gradient for A = QR with R square (A tall or square)."""
    M = None
    if gR is not None:
        M = matmul(R, gR.mT)
    if gQ is not None:
        M = -matmul(gQ.mT, Q) if M is None else M - matmul(gQ.mT, Q)
    b = matmul(Q, tril(M) + tril(M, -1).mT)
    if gQ is not None:
        b = b + gQ
    return _solve(R, b.mT).mT


def qr(input, some=True):
    """``(Q, R)`` with ``input = Q R``, Q with orthonormal columns and R upper triangular;
    ``some=False`` gives the complete square Q."""
    check_matrices("linalg.qr", input, square=False)
    be = input._be
    q, r = be.xp.linalg.qr(input._data, mode="reduced" if some else "complete")
    if needs_grad(input):
        node = LinalgQrBackward0()
        node.complete = not some
        return qr_result(*_record_outputs(node, [q, r], be, (input,)))
    return qr_result(_make(q, be), _make(r, be))


# ----------------------------------------------------------------- Cholesky
class CholeskyBackward0(Node):
    """``dA = L^-T Phi(L^T dL) L^-1``, Phi taking the lower triangle with half its
    diagonal, made symmetric."""

    def backward(self, g):
        L = self.saved_output()
        if self.upper:
            L, g = L.mT, g.mT
        P = tril(matmul(L.mT, g))
        X = 0.5 * (P + tril(P, -1).mT)
        inv = inverse(L)
        return (matmul(matmul(inv.mT, X), inv),)


def _not_positive_definite(xp):
    def describe(matrix):
        n = matrix.shape[-1]
        order = next((k for k in range(1, n + 1) if _fails(xp.linalg.cholesky, matrix[:k, :k])), n)
        return ("The factorization could not be completed because the input is not positive-definite "
                f"(the leading minor of order {order} is not positive-definite).")

    return describe


def _cholesky(name, A, upper):
    check_matrices(name, A)
    be = A._be
    data = _lapack(name, be.xp.linalg.cholesky, A._data, _not_positive_definite(be.xp))
    if upper:
        data = be.xp.ascontiguousarray(data.swapaxes(-1, -2))
    if needs_grad(A):
        node = CholeskyBackward0()
        node.upper = upper
        out = record(node, data, be, (A,))
        node.save_output(out)
        return out
    return _make(data, be)


def cholesky(input, upper=False):
    """The Cholesky factor of a symmetric positive-definite matrix: lower triangular L with
    ``input = L L^T`` (upper U with ``input = U^T U`` when ``upper``). Only the lower
    triangle of ``input`` is read; a matrix that is not positive-definite raises
    ``LinAlgError``."""
    return _cholesky("cholesky", input, upper)


# ----------------------------------------------------------------- powers
class CopyBackwards(Node):
    """Gradient of a result that does not depend on the input's values (zero)."""

    def backward(self, g):
        return (_make(g._be.xp.zeros(self.shape, dtype=g._data.dtype), g._be),)


def matrix_power(input, n):
    """The square matrix ``input`` multiplied by itself ``n`` times: the identity for
    ``n == 0``, powers of the inverse for negative ``n``."""
    check_matrices("linalg.matrix_power", input, floating=False)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:
        be = input._be
        data = be.xp.array(be.xp.broadcast_to(_eye_like(input)._data, input._data.shape))
        if needs_grad(input):
            node = CopyBackwards()
            node.shape = input._data.shape
            return record(node, data, be, (input,))
        return _make(data, be)
    base = inverse(input) if n < 0 else input
    n = abs(int(n))
    if n == 1:
        return base.clone()
    result = None
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


FUNCTIONS = {fn.__name__: fn for fn in (det, logdet, slogdet, inverse, svd, qr, cholesky, cholesky_solve,
                                         cholesky_inverse, pinverse, matrix_power, triangular_solve)}
METHODS = dict(FUNCTIONS)
