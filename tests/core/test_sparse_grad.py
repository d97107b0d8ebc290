"""Sparse COO tensors and sparse gradients (Embedding/EmbeddingBag(sparse=True)) against
torch: coordinates and values as stored and after coalesce, dense forms, accumulation,
clipping, and errors."""

import copy
import pickle

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")

INDICES = [[2, 0, 2, 3, 0], [1, 1, 1, 0, 1]]
VALUES = np.arange(10.0).reshape(5, 2)


def pair(indices=INDICES, values=VALUES, size=(4, 3, 2)):
    e = ember.sparse_coo_tensor(indices, ember.tensor(values, dtype=ember.float64), size)
    t_args = (torch.tensor(indices), torch.tensor(values, dtype=torch.float64))
    t = torch.sparse_coo_tensor(*t_args) if size is None else torch.sparse_coo_tensor(*t_args, size)
    return e, t


def assert_same_sparse(e, t, stored=True):
    """Same layout, shape, flags, coalesced form and dense value; with ``stored``, also
    the same stored coordinates and values in the same order.

    A sum of two uncoalesced tensors is where stored forms differ: ember concatenates
    the entries, torch interleaves them by a merge walk (and adds equal neighbours)."""
    assert e.is_sparse and t.is_sparse
    assert tuple(e.shape) == tuple(t.shape)
    assert e.is_coalesced() == t.is_coalesced()
    assert (e.sparse_dim(), e.dense_dim()) == (t.sparse_dim(), t.dense_dim())
    if stored:
        assert e._nnz() == t._nnz()
        np.testing.assert_array_equal(e._indices().numpy(), t._indices().numpy())
        np.testing.assert_allclose(e._values().numpy(), t._values().numpy(), rtol=1e-15)
    ec, tc = e.coalesce(), t.coalesce()
    np.testing.assert_array_equal(ec.indices().numpy(), tc.indices().numpy())
    np.testing.assert_allclose(ec.values().numpy(), tc.values().numpy(), rtol=1e-14)
    np.testing.assert_allclose(e.to_dense().numpy(), t.to_dense().numpy(), rtol=1e-14)


# ---------------------------------------------------------------- the tensor
def test_construction_and_attributes():
    e, t = pair()
    assert_same_sparse(e, t)
    assert e.layout is ember.sparse_coo and repr(e.layout) == "ember.sparse_coo"
    assert ember.zeros(2).layout is ember.strided and not ember.zeros(2).is_sparse
    assert e.dtype is ember.float64 and e.device == ember.device("cpu")
    assert e.dim() == e.ndim == 3 and e.numel() == 24 and e.size(-1) == 2 and len(e) == 4
    assert isinstance(e, ember.Tensor) and not e.requires_grad and e.is_floating_point()


def test_size_is_inferred_like_torch():
    e = ember.sparse_coo_tensor([[1, 0], [2, 2]], [1.0, 2.0])
    t = torch.sparse_coo_tensor(torch.tensor([[1, 0], [2, 2]]), torch.tensor([1.0, 2.0]))
    assert tuple(e.shape) == tuple(t.shape) == (2, 3)
    e, t = pair(size=None)
    assert tuple(e.shape) == tuple(t.shape)


def test_coalesce_indices_and_values():
    e, t = pair()
    assert not e.is_coalesced()
    ec, tc = e.coalesce(), t.coalesce()
    assert_same_sparse(ec, tc)
    np.testing.assert_array_equal(ec.indices().numpy(), tc.indices().numpy())
    np.testing.assert_array_equal(ec.values().numpy(), tc.values().numpy())
    assert ec.coalesce() is ec
    one = ember.sparse_coo_tensor([[1]], [1.0], (3,))
    assert one.is_coalesced() == torch.sparse_coo_tensor(torch.tensor([[1]]), torch.tensor([1.0]),
                                                         (3,)).is_coalesced()


def test_indices_and_values_of_an_uncoalesced_tensor_raise_as_torch():
    e, t = pair()
    for name in ("indices", "values"):
        with pytest.raises(RuntimeError) as t_err:
            getattr(t, name)()
        with pytest.raises(RuntimeError) as e_err:
            getattr(e, name)()
        assert str(e_err.value) == str(t_err.value)


def test_duplicates_add_in_torch_order():
    # (1 + 1e16) - 1e16 is 0 but 1 + (1e16 - 1e16) is 1: entries are added one by one
    values = [1.0, 1e16, -1e16]
    e = ember.sparse_coo_tensor([[0, 0, 0]], ember.tensor(values, dtype=ember.float64), (2,))
    t = torch.sparse_coo_tensor(torch.tensor([[0, 0, 0]]),
                                torch.tensor(values, dtype=torch.float64), (2,))
    assert e.coalesce().values().tolist() == t.coalesce().values().tolist()
    assert e.to_dense().tolist() == t.to_dense().tolist()
    d_e, d_t = ember.ones(2, dtype=ember.float64), torch.ones(2, dtype=torch.float64)
    d_e.add_(e)
    d_t.add_(t)
    assert d_e.tolist() == d_t.tolist()


def test_sparse_plus_sparse():
    e, t = pair()
    e2, t2 = pair(indices=[[3, 1], [0, 2]], values=VALUES[:2] * -3)
    total = e + e2
    assert_same_sparse(total, t + t2, stored=False)
    assert total._nnz() == 7 and not total.is_coalesced()  # concatenated, coalesced lazily
    assert_same_sparse(e.add(e2, alpha=0.5), t.add(t2, alpha=0.5), stored=False)
    assert_same_sparse(e - e2, t - t2, stored=False)
    ec, tc = e.coalesce(), t.coalesce()
    assert_same_sparse(ec + e2.coalesce(), tc + t2.coalesce())  # coalesced in, coalesced out
    e.add_(e2, alpha=2.0)
    t.add_(t2, alpha=2.0)
    assert_same_sparse(e, t, stored=False)


def test_dense_and_sparse():
    e, t = pair()
    rng = np.random.default_rng(0)
    d = rng.standard_normal((4, 3, 2))
    de, dt = ember.tensor(d), torch.tensor(d)
    np.testing.assert_allclose((de + e).numpy(), (dt + t).numpy(), rtol=1e-15)
    np.testing.assert_allclose((de - e).numpy(), (dt - t).numpy(), rtol=1e-15)
    same = de
    de.add_(e, alpha=-0.25)
    dt.add_(t, alpha=-0.25)
    assert same is de
    np.testing.assert_allclose(de.numpy(), dt.numpy(), rtol=1e-15)
    de -= e
    dt -= t
    np.testing.assert_allclose(de.numpy(), dt.numpy(), rtol=1e-15)
    with pytest.raises(RuntimeError) as t_err:
        t + dt
    with pytest.raises(RuntimeError) as e_err:
        e + de
    assert str(e_err.value) == str(t_err.value)


def test_scaling_and_negation():
    e, t = pair()
    assert_same_sparse(e * 2.5, t * 2.5)
    assert_same_sparse(3 * e, 3 * t)
    assert_same_sparse(e / 4, t / 4)
    assert_same_sparse(-e, -t)
    assert_same_sparse(e.mul(ember.tensor(0.5, dtype=ember.float64)),
                       t.mul(torch.tensor(0.5, dtype=torch.float64)))
    e.mul_(0.5)
    t.mul_(0.5)
    assert_same_sparse(e, t)
    assert_same_sparse(e.coalesce() * 2, t.coalesce() * 2)
    np.testing.assert_allclose(e.norm().item(), t.norm().item(), rtol=1e-15)
    e.zero_()
    t.zero_()
    assert_same_sparse(e, t)


def test_copies_casts_and_pickling():
    e, _ = pair()
    c = e.clone()
    c.mul_(2)
    assert e._values().numpy()[0, 1] == 1.0
    assert e.detach()._values().numpy() is not None and e.data.is_sparse
    f = e.to(ember.float32)
    assert f.dtype is ember.float32 and f.is_sparse and e.float().dtype is ember.float32
    for copied in (pickle.loads(pickle.dumps(e)), copy.deepcopy(e)):
        assert copied.is_sparse and copied.is_coalesced() == e.is_coalesced()
        np.testing.assert_array_equal(copied.to_dense().numpy(), e.to_dense().numpy())


def test_repr_like_torch():
    e = ember.sparse_coo_tensor([[2, 0]], ember.tensor([[1.0, 2.0], [3.0, 4.0]]), (4, 2))
    assert repr(e) == ("tensor(indices=tensor([[2, 0]]),\n"
                       "       values=tensor([[1., 2.],\n"
                       "                      [3., 4.]]),\n"
                       "       size=(4, 2), nnz=2, layout=ember.sparse_coo)")
    assert "dtype=ember.float64" in repr(e.double()) and str(e) == repr(e)


@pytest.mark.parametrize("args", [
    ([[5]], [1.0], (3,)),
    ([[-1]], [1.0], (3,)),
    ([1], [1.0], (3,)),
    ([[1, 2]], [1.0], (3,)),
    ([[1]], [1.0], (3, 4, 5)),
    ([[1]], [[1.0, 2.0]], (3, 4)),
])
def test_construction_errors_as_torch(args):
    indices, values, size = args
    with pytest.raises(RuntimeError) as t_err:
        torch.sparse_coo_tensor(torch.tensor(indices), torch.tensor(values), size,
                                check_invariants=True)
    with pytest.raises(RuntimeError) as e_err:
        ember.sparse_coo_tensor(indices, values, size)
    assert str(e_err.value) == str(t_err.value)


def test_construction_refusals():
    with pytest.raises(RuntimeError, match="indices must be an integer tensor"):
        ember.sparse_coo_tensor([[1.0]], [1.0], (3,))
    assert ember.sparse_coo_tensor([[1]], [1.0], (3,), requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="not sorted and unique"):
        ember.sparse_coo_tensor([[2, 1]], [1.0, 2.0], (3,), is_coalesced=True)
    ok = ember.sparse_coo_tensor([[1, 2]], [1.0, 2.0], (3,), is_coalesced=True)
    assert ok.is_coalesced()
    unchecked = ember.sparse_coo_tensor([[1]], [1.0], (3,), check_invariants=False)
    assert unchecked._nnz() == 1


@pytest.mark.parametrize("op", [
    lambda s: s.exp(), lambda s: s.mean(), lambda s: s[0], lambda s: s.view(-1),
    lambda s: s.numpy(), lambda s: s.item(), lambda s: ember.exp(s), lambda s: ember.add(s, s),
    lambda s: s @ s, lambda s: s == s, lambda s: s.clamp_(0, 1), lambda s: float(s),
    lambda s: s * ember.ones(4, 3, 2), lambda s: s.sum(keepdim=True), lambda s: s.to("cuda"),
])
def test_unsupported_operations_raise_naming_the_layout(op):
    e, _ = pair()
    with pytest.raises(NotImplementedError, match="sparse_coo"):
        op(e)


@pytest.mark.parametrize("name", ["exp", "mean", "view", "clamp_", "numpy", "masked_fill"])
def test_unsupported_methods_name_themselves(name):
    e, _ = pair()
    with pytest.raises(NotImplementedError, match=rf"^{name}\(\) is not supported for tensors "
                                                  "with layout ember.sparse_coo"):
        getattr(e, name)()


# ---------------------------------------------------------------- sparse gradients
def modules(kind, **kwargs):
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((8, 3))
    out = []
    for lib in (ember, torch):
        m = getattr(lib.nn, kind)(8, 3, sparse=True, **kwargs).double()
        with lib.no_grad():
            m.weight.copy_(lib.tensor(weight))
        out.append(m)
    return out


@pytest.mark.parametrize("kwargs", [dict(), dict(padding_idx=2),
                                    dict(padding_idx=-1, max_norm=1.0)])
def test_embedding_gradient_is_torchs_sparse_one(kwargs):
    e_mod, t_mod = modules("Embedding", **kwargs)
    idx = [[1, 2, 1, 7], [2, 2, 0, 5]]
    scale = np.arange(24.0).reshape(2, 4, 3)
    for m, lib in ((e_mod, ember), (t_mod, torch)):
        (m(lib.tensor(idx)) * lib.tensor(scale)).sum().backward()
    assert_same_sparse(e_mod.weight.grad, t_mod.weight.grad)
    assert e_mod.weight.grad.grad_fn is None and not e_mod.weight.grad.requires_grad


@pytest.mark.parametrize("kwargs, per_sample", [
    (dict(mode="sum"), False), (dict(mode="mean"), False),
    (dict(mode="mean", padding_idx=3), False),
    (dict(mode="sum", padding_idx=1), True), (dict(mode="sum", include_last_offset=True), False),
])
def test_embedding_bag_gradient_is_torchs_sparse_one(kwargs, per_sample):
    e_mod, t_mod = modules("EmbeddingBag", **kwargs)
    idx = [1, 3, 3, 1, 4, 5, 0, 1]
    offsets = [0, 3, 3, 8] if kwargs.get("include_last_offset") else [0, 3, 3]
    weights = np.linspace(0.5, 2.0, len(idx))
    for m, lib in ((e_mod, ember), (t_mod, torch)):
        extra = {"per_sample_weights": lib.tensor(weights)} if per_sample else {}
        out = m(lib.tensor(idx), lib.tensor(offsets), **extra)
        scale = lib.arange(out.numel(), dtype=lib.float64).reshape(tuple(out.shape))
        (out * scale).sum().backward()
    assert_same_sparse(e_mod.weight.grad, t_mod.weight.grad)


def test_functional_forms_give_sparse_gradients():
    for lib in (ember, torch):
        w = lib.ones(5, 2, dtype=lib.float64, requires_grad=True)
        lib.nn.functional.embedding(lib.tensor([4, 0, 4]), w, sparse=True).sum().backward()
        lib.nn.functional.embedding_bag(lib.tensor([[1, 2]]), w, sparse=True).sum().backward()
        assert w.grad.is_sparse
        if lib is ember:
            e_grad = w.grad
    assert_same_sparse(e_grad, w.grad, stored=False)


def test_two_backward_passes_accumulate_sparsely():
    e_mod, t_mod = modules("Embedding")
    for idx in ([1, 2, 1], [4, 1]):
        for m, lib in ((e_mod, ember), (t_mod, torch)):
            m(lib.tensor(idx)).pow(2).sum().backward()
    assert_same_sparse(e_mod.weight.grad, t_mod.weight.grad, stored=False)
    assert e_mod.weight.grad._nnz() == 5


def test_one_backward_through_two_lookups_stays_sparse():
    e_mod, t_mod = modules("Embedding")
    for m, lib in ((e_mod, ember), (t_mod, torch)):
        (m(lib.tensor([1, 2])).sum() + m(lib.tensor([2, 6])).pow(2).sum()).backward()
    assert_same_sparse(e_mod.weight.grad, t_mod.weight.grad, stored=False)


@pytest.mark.parametrize("order", ["sparse_then_dense", "dense_then_sparse", "one_pass"])
def test_sparse_and_dense_gradients_sum_to_a_dense_one(order):
    e_mod, t_mod = modules("Embedding")
    held = {}
    for m, lib in ((e_mod, ember), (t_mod, torch)):
        def sparse_loss(m=m, lib=lib):
            return m(lib.tensor([1, 3, 1])).sum()

        def dense_loss(m=m):
            return (m.weight ** 2).sum()

        if order == "one_pass":
            (sparse_loss() + dense_loss()).backward()
        else:
            first, second = ((sparse_loss, dense_loss) if order == "sparse_then_dense"
                             else (dense_loss, sparse_loss))
            first().backward()
            held[lib.__name__] = m.weight.grad
            second().backward()
    e_grad, t_grad = e_mod.weight.grad, t_mod.weight.grad
    assert not e_grad.is_sparse and not t_grad.is_sparse
    np.testing.assert_allclose(e_grad.numpy(), t_grad.numpy(), rtol=1e-15)
    if order == "dense_then_sparse":  # torch adds into the dense gradient in place
        assert (held["ember"] is e_grad) == (held["torch"] is t_grad)


def test_scale_grad_by_freq_refused_with_sparse_gradients_as_torch():
    e_mod, t_mod = modules("Embedding", scale_grad_by_freq=True)
    with pytest.raises(RuntimeError) as t_err:
        t_mod(torch.tensor([1, 1])).sum().backward()
    with pytest.raises(RuntimeError) as e_err:
        e_mod(ember.tensor([1, 1])).sum().backward()
    assert str(e_err.value) == str(t_err.value)


def test_double_backward_through_a_sparse_gradient_is_refused():
    e_mod, _ = modules("Embedding")
    out = e_mod(ember.tensor([1, 2])).pow(2).sum()
    with pytest.raises(NotImplementedError, match="sparse=False"):
        (g,) = ember.autograd.grad(out, e_mod.weight, create_graph=True)
        g.to_dense().sum().backward()


def test_dense_path_is_unchanged():
    for sparse in (False, True):
        m = ember.nn.Embedding(5, 2, sparse=sparse)
        m(ember.tensor([1, 1, 3])).sum().backward()
        assert m.weight.grad.is_sparse == sparse
        assert m.weight.grad.to_dense().tolist() == [[0, 0], [2, 2], [0, 0], [1, 1], [0, 0]]


def test_zero_grad_keeps_a_sparse_gradient_empty():
    e_mod, _ = modules("Embedding")
    e_mod(ember.tensor([1, 2])).sum().backward()
    e_mod.zero_grad(set_to_none=False)
    assert e_mod.weight.grad.is_sparse and e_mod.weight.grad._nnz() == 0
    e_mod.zero_grad()
    assert e_mod.weight.grad is None


def test_assigning_a_sparse_gradient_checks_it():
    p = ember.nn.Parameter(ember.ones(4, 2))
    p.grad = ember.sparse_coo_tensor([[1]], ember.ones(1, 2), (4, 2))
    assert p.grad.is_sparse
    with pytest.raises(RuntimeError, match="size"):
        p.grad = ember.sparse_coo_tensor([[1]], ember.ones(1, 2), (5, 2))
    with pytest.raises(RuntimeError, match="dtype"):
        p.grad = ember.sparse_coo_tensor([[1]], ember.ones(1, 2, dtype=ember.float64), (4, 2))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_on_sparse_gradients(norm_type):
    """torch 2.13 refuses sparse gradients here (torch 1.0 did not); the reference is torch
    clipping the same gradients in dense form."""
    e_mod, t_mod = modules("Embedding")
    dense_w = torch.nn.Parameter(t_mod.weight.detach().clone())
    for m, lib in ((e_mod, ember), (t_mod, torch)):
        m(lib.tensor([1, 3, 1, 6])).pow(3).sum().backward()
    dense_w.grad = t_mod.weight.grad.to_dense()
    e_norm = ember.nn.utils.clip_grad_norm_(e_mod.parameters(), 0.5, norm_type=norm_type)
    t_norm = torch.nn.utils.clip_grad_norm_([dense_w], 0.5, norm_type=norm_type)
    np.testing.assert_allclose(e_norm.item(), t_norm.item(), rtol=1e-13)
    assert e_mod.weight.grad.is_sparse
    np.testing.assert_allclose(e_mod.weight.grad.to_dense().numpy(), dense_w.grad.numpy(),
                               rtol=1e-13)


def test_clip_grad_value_refuses_sparse_gradients():
    e_mod, _ = modules("Embedding")
    e_mod(ember.tensor([1])).sum().backward()
    with pytest.raises(NotImplementedError, match="clamp_"):
        ember.nn.utils.clip_grad_value_(e_mod.parameters(), 0.1)
