"""Linear algebra (det, slogdet/logdet, inverse, solves, svd, qr, cholesky, pinverse,
matrix_power) against torch: values, dtypes, gradients, double backward, gradcheck,
batches, empty matrices and torch's errors. SVD and QR factors are compared through
sign-free quantities."""

import numpy as np
import pytest

import ember
from tests.oracle import check, same_outcome, torch

DTYPES = [np.float64, np.float32]


def lib(x):
    return ember if isinstance(x, ember.Tensor) else torch


def rand(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed + 7 * len(shape)).standard_normal(shape).astype(dtype)


def well_conditioned(*shape, dtype=np.float64, seed=0):
    n = shape[-1]
    return (rand(*shape, seed=seed) + 2 * n ** 0.5 * np.eye(n)).astype(dtype)


def spd(x):
    """A symmetric positive-definite matrix made from any square ``x`` (differentiably)."""
    n = x.shape[-1]
    if isinstance(x, np.ndarray):
        return x @ x.swapaxes(-1, -2) + n * np.eye(n, dtype=x.dtype)
    return x @ x.mT + n * lib(x).eye(n, dtype=x.dtype)


# torch raises its LinAlgError (a RuntimeError) where ember raises RuntimeError
LINALG_ERROR = dict(raises=True, family=RuntimeError)


# ----------------------------------------------------------------- determinants
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (1, 1), (2, 4, 4), (2, 1, 3, 3), (0, 0), (2, 0, 0)])
def test_det_inverse_slogdet(shape, dtype):
    x = well_conditioned(*shape, dtype=dtype)
    check(lambda a: a.det(), [x])
    check(lambda a: lib(a).inverse(a), [x])
    check(lambda a: tuple(lib(a).slogdet(a)), [x])
    check(lambda a: a.logdet(), [spd(x)])


def test_det_of_noncontiguous_and_negative_determinants():
    x = rand(4, 4)
    check(lambda a: a.mT.det(), [x])
    check(lambda a: a.logdet(), [np.diag([-1.0, 2.0, 3.0])], gradcheck=False)


@pytest.mark.parametrize("x", [np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1]]),
                               np.zeros((3, 3)), np.array([[0.0]])])
def test_det_gradient_of_singular_matrices_is_the_cofactor_matrix(x):
    e = ember.tensor(x, requires_grad=True)
    e.det().backward()
    n = len(x)
    cofactors = np.array([[np.linalg.det(np.delete(np.delete(x, i, 0), j, 1)) * (-1) ** (i + j)
                           for j in range(n)] for i in range(n)]) if n > 1 else np.ones((1, 1))
    np.testing.assert_allclose(e.grad.numpy(), cofactors, atol=1e-12)


@pytest.mark.parametrize("x", [np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1]])])
def test_det_of_singular_matrices_matches_torchs_second_order_gradients(x):
    check(lambda a: a.det(), [x], gradcheck=False)


def test_inverse_errors():
    assert "singular" in same_outcome(lambda a: lib(a).inverse(a), [np.ones((3, 3))], **LINALG_ERROR)[0].message
    msg = same_outcome(lambda a: lib(a).inverse(a), [np.stack([np.eye(2), np.ones((2, 2))])], **LINALG_ERROR)[0].message
    assert "(Batch element 1)" in msg
    with pytest.raises(ember.linalg.LinAlgError):
        ember.inverse(ember.ones(2, 2))
    assert "square" in same_outcome(lambda a: lib(a).inverse(a), [rand(3, 4)], **LINALG_ERROR)[0].message
    assert "at least 2 dimensions" in same_outcome(lambda a: lib(a).det(a), [rand(3)], **LINALG_ERROR)[0].message
    assert "floating point" in same_outcome(lambda a: lib(a).inverse(a), [np.ones((2, 2), np.int64)],
                                            **LINALG_ERROR)[0].message
    assert "floating point" in same_outcome(lambda a: lib(a).det(a), [np.ones((2, 2), np.int64)],
                                            **LINALG_ERROR)[0].message
    same_outcome(lambda a: lib(a).inverse(a), [np.ones((2, 2), np.float16)], **LINALG_ERROR)


# ----------------------------------------------------------------- solves
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("a_shape,b_shape,left", [((3, 3), (3,), True), ((3, 3), (3, 2), True),
                                                   ((2, 3, 3), (2, 3), True), ((2, 3, 3), (3, 4), True),
                                                   ((3, 3), (2, 3, 1), True), ((3, 3), (2, 3), False),
                                                   ((0, 0), (0, 2), True)])
def test_linalg_solve(a_shape, b_shape, left, dtype):
    check(lambda a, b: lib(a).linalg.solve(a, b, left=left),
          [well_conditioned(*a_shape, dtype=dtype), rand(*b_shape, dtype=dtype, seed=1)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper,transpose,unitriangular", [(True, False, False), (False, False, False),
                                                           (True, True, False), (False, True, True)])
def test_triangular_solve(upper, transpose, unitriangular, dtype):
    check(lambda b, a: tuple(lib(a).triangular_solve(b, a, upper, transpose, unitriangular)),
          [rand(2, 3, 2, dtype=dtype, seed=1), well_conditioned(3, 3, dtype=dtype)])
    check(lambda a, b: lib(a).linalg.solve_triangular(a, b, upper=upper, left=not transpose,
                                                      unitriangular=unitriangular),
          [well_conditioned(3, 3, dtype=dtype), rand(3, 3, dtype=dtype, seed=1)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse(upper, dtype):
    def factor(a):
        L = lib(a).linalg.cholesky(spd(a))
        return L.mT if upper else L

    x, b = rand(3, 3, dtype=dtype), rand(3, 2, dtype=dtype, seed=1)
    check(lambda a, c: lib(a).cholesky_solve(c, factor(a), upper), [x, b])
    check(lambda a: lib(a).cholesky_inverse(factor(a), upper), [x])


def test_solve_errors():
    assert "singular" in same_outcome(lambda a, b: lib(a).linalg.solve(a, b), [np.ones((3, 3)), rand(3)],
                                      **LINALG_ERROR)[0].message
    same_outcome(lambda a, b: lib(a).linalg.solve(a, b), [well_conditioned(3, 3), rand(4)], **LINALG_ERROR)
    same_outcome(lambda a, b: lib(a).linalg.solve(a, b), [well_conditioned(3, 3), rand(3).astype(np.float32)],
                 **LINALG_ERROR)
    same_outcome(lambda a, b: lib(a).linalg.solve(a, b), [well_conditioned(2, 3, 3), rand(4, 3, 1)], **LINALG_ERROR)
    same_outcome(lambda b, a: lib(b).triangular_solve(b, a), [rand(3), well_conditioned(3, 3)], **LINALG_ERROR)


# ----------------------------------------------------------------- SVD
def _aligned_svd(a, some=True):
    """U, S, V with each singular pair's sign fixed by U's first row: sign-free."""
    U, S, V = lib(a).svd(a, some=some)
    k = S.shape[-1]
    signs = U[..., :1, :k].sign()
    return U[..., :k] * signs, S, V[..., :k] * signs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 5, 3), (2, 3, 5)])
def test_svd(shape, dtype):
    x = rand(*shape, dtype=dtype)
    # second derivatives divide by differences of squared singular values: float32
    # rounding grows past its tolerance there, so they are compared in float64
    check(lambda a: _aligned_svd(a), [x], double=dtype == np.float64)
    check(lambda a: lib(a).svd(a)[1], [x])
    check(lambda a: (lambda U, S, V: (U * S.unsqueeze(-2)) @ V.mT)(*lib(a).svd(a)), [x])
    check(lambda a: (lambda U, S, V: (U @ U.mT, V @ V.mT))(*lib(a).svd(a)), [x])


@pytest.mark.parametrize("shape", [(4, 3), (3, 4)])
def test_svd_full_matrices(shape):
    x = rand(*shape)
    for some in (True, False):
        e = ember.svd(ember.tensor(x), some=some)
        t = torch.svd(torch.from_numpy(x), some=some)
        for eo, to in zip(e, t):
            assert eo.shape == to.shape
        np.testing.assert_allclose(np.abs(e.U.numpy()), np.abs(t.U.numpy()), atol=1e-10)
        np.testing.assert_allclose((e.U.mT @ e.U).numpy(), np.eye(e.U.shape[-1]), atol=1e-12)
    check(lambda a: _aligned_svd(a, some=False), [x])


def test_svd_without_uv():
    x = rand(2, 4, 3)
    check(lambda a: tuple(lib(a).svd(a, compute_uv=False)), [x])
    U, S, V = ember.svd(ember.tensor(x), compute_uv=False)
    assert U.shape == (2, 4, 4) and V.shape == (2, 3, 3) and not U.numpy().any()


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 0, 0)])
def test_svd_qr_of_empty_matrices(shape):
    x = rand(*shape)
    for some in (True, False):
        e, t = ember.svd(ember.tensor(x), some=some), torch.svd(torch.from_numpy(x), some=some)
        for eo, to in zip(e, t):
            np.testing.assert_array_equal(eo.numpy(), to.numpy())
        e, t = ember.qr(ember.tensor(x), some=some), torch.linalg.qr(torch.from_numpy(x), "reduced" if some else "complete")
        for eo, to in zip(e, t):
            np.testing.assert_array_equal(eo.numpy(), to.numpy())


def test_svd_errors():
    assert "at least 2 dimensions" in same_outcome(lambda a: lib(a).svd(a), [rand(3)], **LINALG_ERROR)[0].message
    same_outcome(lambda a: lib(a).svd(a), [np.ones((2, 2), np.int64)], **LINALG_ERROR)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 2), (2, 3), (3, 3), (2, 4, 3), (0, 3)])
def test_pinverse(shape, dtype):
    x = (rand(*shape) + 2 * np.eye(*shape[-2:])).astype(dtype)
    check(lambda a: a.pinverse(), [x], double=dtype == np.float64)
    check(lambda a: lib(a).linalg.pinv(a), [x], double=dtype == np.float64)


def test_pinverse_of_rank_deficient_matrices():
    x = np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])
    check(lambda a: lib(a).pinverse(a), [x], gradcheck=False)
    check(lambda a: lib(a).pinverse(a, rcond=0.5), [np.diag([1.0, 0.1, 3.0])], gradcheck=False)
    check(lambda a: lib(a).linalg.pinv(a, atol=0.5), [np.diag([1.0, 0.1, 3.0])], gradcheck=False)


def test_hermitian_pinv_reads_the_lower_triangle():
    x = spd(rand(3, 3)) + np.triu(np.ones((3, 3)), 1)
    check(lambda a: lib(a).linalg.pinv(a, hermitian=True), [x], grad=False)
    check(lambda a: lib(a).linalg.pinv(spd(a), hermitian=True), [rand(2, 3, 3)])


# ----------------------------------------------------------------- QR
def _aligned_qr(a, some=True):
    """Q, R with the signs of R's diagonal made positive: the unique factorisation."""
    Q, R = lib(a).qr(a, some=some)
    k = min(a.shape[-2:])
    signs = R.diagonal(0, -2, -1)[..., :k].sign()
    return Q[..., :k] * signs.unsqueeze(-2), R[..., :k, :] * signs.unsqueeze(-1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 4, 3), (2, 3, 4)])
def test_qr(shape, dtype):
    x = rand(*shape, dtype=dtype)
    check(lambda a: _aligned_qr(a), [x])
    check(lambda a: (lambda Q, R: Q @ R)(*lib(a).qr(a)), [x])


def test_qr_complete():
    check(lambda a: _aligned_qr(a, some=False), [rand(3, 5)])
    x = ember.tensor(rand(5, 3), requires_grad=True)
    Q, R = ember.qr(x, some=False)
    assert Q.shape == (5, 5) and R.shape == (5, 3)
    with pytest.raises(RuntimeError, match="not differentiable"):
        Q.sum().backward()


def test_qr_errors():
    assert "at least 2 dimensions" in same_outcome(lambda a: lib(a).linalg.qr(a), [rand(3)], **LINALG_ERROR)[0].message
    same_outcome(lambda a: lib(a).linalg.qr(a), [np.ones((2, 2), np.int64)], **LINALG_ERROR)


# ----------------------------------------------------------------- Cholesky
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (1, 1), (2, 4, 4), (0, 0)])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(shape, upper, dtype):
    x = rand(*shape, dtype=dtype)
    check(lambda a: lib(a).cholesky(spd(a), upper), [x])
    check(lambda a: lib(a).linalg.cholesky(spd(a), upper=upper), [x])


def test_cholesky_reads_the_lower_triangle():
    x = spd(rand(3, 3)) + np.triu(np.ones((3, 3)), 1) * 7
    check(lambda a: lib(a).cholesky(a), [x], grad=False)


def test_cholesky_errors():
    msg = same_outcome(lambda a: lib(a).cholesky(a), [np.array([[1.0, 2.0], [2.0, 1.0]])], **LINALG_ERROR)[0].message
    assert "leading minor of order 2 is not positive-definite" in msg
    msg = same_outcome(lambda a: lib(a).linalg.cholesky(a), [np.stack([np.eye(2), -np.eye(2)])],
                       **LINALG_ERROR)[0].message
    assert msg.startswith("linalg.cholesky: (Batch element 1)") and "order 1" in msg
    with pytest.raises(ember.linalg.LinAlgError):
        ember.cholesky(-ember.eye(2))
    assert "square" in same_outcome(lambda a: lib(a).cholesky(a), [rand(2, 3)], **LINALG_ERROR)[0].message


# ----------------------------------------------------------------- matrix_power
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 2, 3, 6, -1, -3])
@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3)])
def test_matrix_power(n, shape, dtype):
    x = well_conditioned(*shape, dtype=dtype) / 3
    check(lambda a: a.matrix_power(n), [x])
    check(lambda a: lib(a).linalg.matrix_power(a, n), [x])


def test_matrix_power_integers_and_errors():
    x = np.arange(9).reshape(3, 3)
    e, t = ember.matrix_power(ember.tensor(x), 3), torch.matrix_power(torch.from_numpy(x), 3)
    assert e.dtype == ember.int64
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert "floating point" in same_outcome(lambda a: lib(a).matrix_power(a, -1), [x], **LINALG_ERROR)[0].message
    assert "square" in same_outcome(lambda a: lib(a).matrix_power(a, 2), [rand(3, 4)], **LINALG_ERROR)[0].message
    assert "at least 2 dimensions" in same_outcome(lambda a: lib(a).matrix_power(a, 2), [rand(3)],
                                                   **LINALG_ERROR)[0].message
