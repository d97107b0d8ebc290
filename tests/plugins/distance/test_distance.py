"""CosineSimilarity and PairwiseDistance against torch 2.13."""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.oracle import as_numpy, assert_same, check, torch

TF = torch.nn.functional
DTYPES = [np.float64, np.float32]


def _r(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("s1,s2,dim", [((4, 5), (4, 5), 1), ((4, 5), (4, 5), 0), ((2, 3, 4), (3, 4), -1),
                                       ((2, 3, 4), (1, 3, 1), 1), ((5,), (5,), 0)])
def test_cosine_similarity(s1, s2, dim, dtype):
    check(lambda a, b: EF.cosine_similarity(a, b, dim=dim), [_r(s1, dtype), _r(s2, dtype, 1)],
          lambda a, b: TF.cosine_similarity(a, b, dim=dim))


@pytest.mark.parametrize("eps", [1e-8, 0.5])
def test_cosine_similarity_zero_vector_and_eps(eps):
    a = np.zeros((2, 3))
    a[1] = [1e-3, 0, 2e-3]
    check(lambda x, y: EF.cosine_similarity(x, y, eps=eps), [a, _r((2, 3))],
          lambda x, y: TF.cosine_similarity(x, y, eps=eps), gradcheck=False, double=False)  # torch: NaN


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf")])
@pytest.mark.parametrize("s1,s2", [((4, 5), (4, 5)), ((5,), (5,)), ((4, 5), (5,))])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance(s1, s2, p, keepdim, dtype):
    check(lambda a, b: EF.pairwise_distance(a, b, p=p, keepdim=keepdim), [_r(s1, dtype), _r(s2, dtype, 1)],
          lambda a, b: TF.pairwise_distance(a, b, p=p, keepdim=keepdim), double=p != float("inf"))


def test_pairwise_distance_eps_and_ints(device):
    a = ember.tensor([[1, 2, 3]], device=device)
    assert_same(EF.pairwise_distance(a, a), TF.pairwise_distance(torch.tensor([[1, 2, 3]]), torch.tensor([[1, 2, 3]])))
    check(lambda x, y: EF.pairwise_distance(x, y, eps=0.1), [_r((3, 4)), _r((3, 4), seed=1)],
          lambda x, y: TF.pairwise_distance(x, y, eps=0.1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_modules(dtype):
    x1, x2 = _r((6, 4, 3), dtype), _r((6, 4, 3), dtype, 1)
    check(lambda a, b: ember.nn.CosineSimilarity(dim=2, eps=1e-6)(a, b), [x1, x2],
          lambda a, b: torch.nn.CosineSimilarity(dim=2, eps=1e-6)(a, b))
    check(lambda a, b: ember.nn.PairwiseDistance(p=1, keepdim=True)(a, b), [x1, x2],
          lambda a, b: torch.nn.PairwiseDistance(p=1, keepdim=True)(a, b))
    for e, t in [(ember.nn.CosineSimilarity(), torch.nn.CosineSimilarity()),
                 (ember.nn.PairwiseDistance(1, 1e-3, True), torch.nn.PairwiseDistance(1, 1e-3, True))]:
        assert repr(e) == repr(t)
    m = ember.nn.PairwiseDistance(3.0, 1e-3, True)
    assert (m.norm, m.eps, m.keepdim) == (3.0, 1e-3, True)


def test_errors(device):
    with pytest.raises(RuntimeError, match="The size of tensor a \\(4\\) must match the size of tensor b \\(5\\)"):
        EF.cosine_similarity(ember.randn(3, 4, device=device), ember.randn(3, 5, device=device))
    with pytest.raises(RuntimeError, match="expected common dtype to be floating point, yet common dtype is Long"):
        ints = ember.arange(3, device=device).reshape(1, 3)
        EF.cosine_similarity(ints, ints)
    with pytest.raises(IndexError, match="Dimension out of range"):
        EF.cosine_similarity(ember.randn(2, 3, device=device), ember.randn(2, 3, device=device), dim=3)
    with pytest.raises(RuntimeError):
        EF.pairwise_distance(ember.randn(3, 4, device=device), ember.randn(3, 5, device=device))


def test_int_and_float_mix_promotes(device):
    floats, ints = ember.arange(3.0, device=device).reshape(1, 3), ember.arange(3, device=device).reshape(1, 3)
    out = EF.cosine_similarity(floats, ints)
    assert out.dtype == ember.float32
    np.testing.assert_allclose(as_numpy(out), [1.0], rtol=1e-6)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 2.0, 3.0, float("inf")])
def test_pdist_matches_torch(p):
    x = np.random.default_rng(0).standard_normal((5, 3))
    x[3] = x[1]  # a zero distance: the norm's gradient there is 0 in both libraries
    # torch has no double backward for pdist (ember has: Tensor ops)
    check(lambda a: EF.pdist(a, p), [x], lambda a: TF.pdist(a, p), gradcheck=False, double=False)


@pytest.mark.parametrize("make", [
    lambda L: L.nn.functional.pdist(L.tensor([1.0, 2.0])),
    lambda L: L.nn.functional.pdist(L.tensor([[1.0, 2.0]]), -1),
    lambda L: L.nn.functional.pdist(L.tensor([[1, 2], [3, 4]])),
])
def test_pdist_errors_like_torch(make, device):
    with pytest.raises(RuntimeError) as t_err:
        make(torch)
    with pytest.raises(RuntimeError, match=str(t_err.value)):
        make(ember)
    assert tuple(EF.pdist(ember.ones(1, 3, device=device)).shape) == (0,)


@pytest.mark.parametrize("p", [1.5, 2.0, 3.0])
def test_pdist_gradients_of_any_order(p, device):
    x = ember.tensor(np.random.default_rng(1).standard_normal((4, 3)), requires_grad=True, device=device)
    assert ember.autograd.gradcheck(lambda a: EF.pdist(a, p), (x,))
    assert ember.autograd.gradgradcheck(lambda a: EF.pdist(a, p), (x,))
