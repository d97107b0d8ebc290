"""ember.nn.utils.rnn (PackedSequence and the pack/pad helpers) against torch 2.13:
values, batch sizes, permutations, padded outputs and gradients."""

import numpy as np
import pytest

import ember
from tests.oracle import as_numpy, placed, same_outcome, torch

ER = ember.nn.utils.rnn
TR = torch.nn.utils.rnn


def _r(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _same_packed(e, t):
    np.testing.assert_array_equal(as_numpy(e.data), t.data.detach().numpy())
    np.testing.assert_array_equal(as_numpy(e.batch_sizes), t.batch_sizes.numpy())
    assert e.batch_sizes.dtype == ember.int64 and e.batch_sizes.device.type == "cpu"
    for a, b in ((e.sorted_indices, t.sorted_indices), (e.unsorted_indices, t.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(as_numpy(a), b.numpy())


CASES = [([4, 3, 3, 1], True), ([1, 4, 3, 3], False), ([2, 2, 2], True), ([3], True),
         ([2, 3, 2, 3, 1], False)]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", CASES)
@pytest.mark.parametrize("as_tensor", [False, True])
def test_pack_pad_roundtrip(lengths, enforce_sorted, batch_first, as_tensor, device):
    B, T = len(lengths), max(lengths) + 1
    x = _r((B, T, 3) if batch_first else (T, B, 3))
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, device=device, requires_grad=True)
    tl = torch.tensor(lengths) if as_tensor else lengths
    el = ember.tensor(lengths) if as_tensor else lengths   # lengths live on the CPU, as in torch
    tp = TR.pack_padded_sequence(tx, tl, batch_first=batch_first, enforce_sorted=enforce_sorted)
    ep = ER.pack_padded_sequence(ex, el, batch_first=batch_first, enforce_sorted=enforce_sorted)
    assert isinstance(ep, ER.PackedSequence) and isinstance(ep, tuple)
    _same_packed(ep, tp)
    for total in (None, T + 2):
        t_pad, t_len = TR.pad_packed_sequence(tp, batch_first=batch_first, padding_value=-1.5,
                                              total_length=total)
        e_pad, e_len = ER.pad_packed_sequence(ep, batch_first=batch_first, padding_value=-1.5,
                                              total_length=total)
        assert tuple(e_pad.shape) == tuple(t_pad.shape)
        np.testing.assert_array_equal(as_numpy(e_pad), t_pad.detach().numpy())
        np.testing.assert_array_equal(as_numpy(e_len), t_len.numpy())
        assert e_len.dtype == ember.int64
    w = _r(tuple(t_pad.shape), seed=1)
    (t_pad * torch.tensor(w)).sum().backward()
    (e_pad * ember.tensor(w, device=device)).sum().backward()
    np.testing.assert_array_equal(as_numpy(ex.grad), tx.grad.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side, device):
    seqs = [_r((n, 2, 3), seed=n) for n in (3, 5, 1)]
    ts = [torch.tensor(s, requires_grad=True) for s in seqs]
    es = [ember.tensor(s, device=device, requires_grad=True) for s in seqs]
    t = TR.pad_sequence(ts, batch_first=batch_first, padding_value=2.0, padding_side=padding_side)
    e = ER.pad_sequence(es, batch_first=batch_first, padding_value=2.0, padding_side=padding_side)
    np.testing.assert_array_equal(as_numpy(e), t.detach().numpy())
    w = _r(tuple(t.shape), seed=9)
    (t * torch.tensor(w)).sum().backward()
    (e * ember.tensor(w, device=device)).sum().backward()
    for a, b in zip(es, ts):
        np.testing.assert_array_equal(as_numpy(a.grad), b.grad.numpy())


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_unpack_sequence(enforce_sorted, device):
    lengths = [4, 2, 2, 1] if enforce_sorted else [2, 4, 1, 2]
    seqs = [_r((n, 3), seed=i) for i, n in enumerate(lengths)]
    tp = TR.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=enforce_sorted)
    ep = ER.pack_sequence([ember.tensor(s, device=device) for s in seqs], enforce_sorted=enforce_sorted)
    _same_packed(ep, tp)
    back = ER.unpack_sequence(ep)
    assert len(back) == len(seqs)
    for a, s in zip(back, seqs):
        np.testing.assert_array_equal(as_numpy(a), s)
    padded = ER.pad_sequence([ember.tensor(s, device=device) for s in seqs])
    for a, s in zip(ER.unpad_sequence(padded, ember.tensor(lengths)), seqs):
        np.testing.assert_array_equal(as_numpy(a), s)


def test_packed_sequence_methods():
    ep = ER.pack_sequence([ember.tensor([1.0, 2.0, 3.0]), ember.tensor([4.0])], enforce_sorted=False)
    assert not ep.is_cuda and not ep.is_pinned()
    assert ep.double().data.dtype == ember.float64
    assert ep.float().data.dtype == ember.float32
    assert ep.long().data.dtype == ember.int64
    assert ep.to(ember.float32) is ep
    assert ep.cpu() is ep
    data, batch_sizes, sorted_indices, unsorted_indices = ep
    assert ep._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    rebuilt = ER.PackedSequence(data, batch_sizes, sorted_indices)
    np.testing.assert_array_equal(as_numpy(rebuilt.unsorted_indices), as_numpy(unsorted_indices))
    assert ER.PackedSequence((data, batch_sizes)).sorted_indices is None
    assert repr(ep).startswith("PackedSequence(data=tensor(")


def test_packed_sequence_on_device(device):
    if device == "cpu":
        pytest.skip("moving between devices needs a second device")
    target = placed(device)
    ep = ER.pack_sequence([ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0, 5.0])], enforce_sorted=False)
    g = ep.to(device)
    assert g.data.device == target and g.is_cuda == (target.type == "cuda")
    assert g.batch_sizes.device.type == "cpu" and g.sorted_indices.device == target
    padded, lengths = ER.pad_packed_sequence(g)
    assert padded.device == target and as_numpy(padded).tolist() == [[1.0, 3.0], [2.0, 4.0], [0.0, 5.0]]
    m = ember.nn.GRU(1, 2).to(device)
    out, h = m(ER.pack_sequence([ember.ones(3, 1), ember.ones(2, 1)]).to(device))
    assert out.data.device == target and h.device == target and tuple(h.shape) == (1, 2, 2)


@pytest.mark.parametrize("lengths,enforce_sorted", [([2, 3, 1], True), ([3, 0, 1], True),
                                                    ([3, 1, 0], True), ([3, 1, 0], False),
                                                    ([-1, 2, 1], True), ([3, 2], True)])
def test_pack_errors(lengths, enforce_sorted):
    same_outcome(lambda L: L.nn.utils.rnn.pack_padded_sequence(L.tensor(np.zeros((4, 3, 2))), lengths,
                                                               enforce_sorted=enforce_sorted),
                 raises=True, message=True)


def test_pack_error_messages(device):
    x = ember.zeros(4, 3, 2, device=device)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order when `enforce_sorted` is True. "
                                           "You can pass `enforce_sorted=False`"):
        ER.pack_padded_sequence(x, [1, 2, 3])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0, but found an "
                                           "element in 'lengths' that is <= 0"):
        ER.pack_padded_sequence(x, [3, 2, 0])
    with pytest.raises(RuntimeError, match="1D CPU int64 tensor"):
        ER.pack_padded_sequence(x, ember.tensor([[3, 2, 1]]))
    with pytest.raises(RuntimeError, match="at most the sequence length"):  # torch reads out of bounds
        ER.pack_padded_sequence(x, [5, 2, 1])


def test_pad_errors(device):
    p = ER.pack_sequence([ember.zeros(3, 2, device=device), ember.zeros(2, 2, device=device)])
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 3"):
        ER.pad_packed_sequence(p, total_length=2)
    with pytest.raises(RuntimeError, match="padding_side"):
        ER.pad_sequence([ember.zeros(2, device=device)], padding_side="up")
    with pytest.raises(RuntimeError, match="empty list"):
        ER.pad_sequence([])
    with pytest.raises(RuntimeError):
        ER.pad_sequence([ember.zeros(2, 3, device=device), ember.zeros(2, 4, device=device)])


def test_lstm_on_packed_equals_per_sequence(device):
    """A packed batch gives each sequence the result it gets alone."""
    m = ember.nn.LSTM(2, 3, 2, bidirectional=True).double().to(device)
    seqs = [ember.tensor(_r((n, 2), seed=n), device=device) for n in (2, 5, 3)]
    out, (h, c) = m(ER.pack_sequence(seqs, enforce_sorted=False))
    padded, lengths = ER.pad_packed_sequence(out)
    for b, s in enumerate(seqs):
        o1, (h1, c1) = m(s)  # unbatched
        n = s.shape[0]
        np.testing.assert_allclose(as_numpy(padded[:n, b]), as_numpy(o1), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(as_numpy(h[:, b]), as_numpy(h1), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(as_numpy(c[:, b]), as_numpy(c1), rtol=1e-12, atol=1e-12)
        assert not as_numpy(padded[n:, b]).any()
