"""index_add/index_copy/index_fill/masked_scatter/put (and their in-place forms) and take,
compared with torch: values, dtypes, gradients (first and second order, gradcheck in
float64), non-contiguous inputs, negative dims, empty and repeated indices, bad input."""

import numpy as np
import pytest

import ember
from tests.oracle import check, same_outcome, torch

FLOATS = [np.float64, np.float32]
rng = np.random.default_rng(0)


def _randn(*shape, dtype=np.float64):
    return np.asarray(rng.standard_normal(shape), dtype=dtype)


def _idx(*values):
    return np.array(values, dtype=np.int64)


# ------------------------------------------------------------------ values and gradients

CASES = {
    "index_add": (lambda x, i, s: x.index_add(1, i, s), lambda: (_randn(3, 4), _idx(3, 0, 3), _randn(3, 3))),
    "index_add_alpha": (lambda x, i, s: x.index_add(-1, i, s, alpha=-2.5),
                        lambda: (_randn(3, 4), _idx(1, 1), _randn(3, 2))),
    "index_add_fn": (lambda x, i, s: ember_or_torch(x).index_add(x, 0, i, s),
                     lambda: (_randn(4, 2), _idx(2, 0), _randn(2, 2))),
    "index_add_scalar": (lambda x, i, s: x.index_add(0, i, s), lambda: (_randn(), _idx(0), _randn())),
    "index_copy": (lambda x, i, s: x.index_copy(0, i, s), lambda: (_randn(4, 3), _idx(3, 1), _randn(2, 3))),
    "index_copy_neg_dim": (lambda x, i, s: x.index_copy(-2, i, s),
                           lambda: (_randn(2, 4, 3), _idx(0, 2, 3), _randn(2, 3, 3))),
    "index_copy_0d_source": (lambda x, i, s: x.index_copy(0, i, s), lambda: (_randn(4), np.array(2), _randn())),
    "index_fill": (lambda x, i: x.index_fill(1, i, -1.5), lambda: (_randn(3, 4), _idx(0, -1, 2))),
    "index_fill_tensor_value": (lambda x, i, v: x.index_fill(0, i, v), lambda: (_randn(3, 2), _idx(2, 0, 2), _randn())),
    "index_fill_negative_duplicates": (lambda x, i, v: x.index_fill(0, i, v), lambda: (_randn(3, 2), _idx(0, 0), _randn())),
    "masked_scatter": (lambda x, m, s: x.masked_scatter(m, s),
                       lambda: (_randn(3, 4), rng.random((3, 4)) > 0.4, _randn(14))),
    "masked_scatter_broadcast": (lambda x, m, s: x.masked_scatter(m, s),
                                 lambda: (_randn(4), rng.random((2, 1)) > -1, _randn(3, 3))),
    "put": (lambda x, i, s: x.put(i, s), lambda: (_randn(3, 4), _idx(0, 10, -1, 5), _randn(2, 2))),
    "put_accumulate": (lambda x, i, s: x.put(i, s, accumulate=True),
                       lambda: (_randn(3, 4), _idx(0, 11, -1, 0), _randn(4))),
    "take": (lambda x, i: x.take(i), lambda: (_randn(3, 4), np.array([[0, 11], [-1, 5], [5, 5]]))),
    "take_fn": (lambda x, i: ember_or_torch(x).take(x, i), lambda: (_randn(5), _idx(4, -5))),
}


def ember_or_torch(x):
    return ember if isinstance(x, ember.Tensor) else torch


@pytest.mark.parametrize("dtype", FLOATS, ids=["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name, dtype):
    fn, make = CASES[name]
    inputs = [x.astype(dtype) if x.dtype.kind == "f" else x for x in make()]
    check(fn, inputs)


IN_PLACE = {
    "index_add_": lambda x, i, s: (x * 1).index_add_(0, i, s, alpha=3),
    "index_copy_": lambda x, i, s: (x * 1).index_copy_(0, i, s),
    "put_": lambda x, i, s: (x * 1).put_(i.reshape(-1)[:2], s.reshape(-1)[:2] * 1, True),
}


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_forms_record_gradients(name):
    check(IN_PLACE[name], [_randn(3, 2), _idx(2, 0), _randn(2, 2)])


def test_in_place_fill_and_scatter_record_gradients():
    check(lambda x, i: (x * 1).index_fill_(1, i, 2.0), [_randn(2, 3), _idx(2)])
    check(lambda x, m, s: (x * 1).masked_scatter_(m, s), [_randn(2, 3), np.array([True, False, True]), _randn(4)])


def test_in_place_through_a_view_updates_the_base_history():
    def fn(lib, x, s):
        y = x * 1
        y[1:].t().index_add_(1, lib.tensor([1, 0]), s)
        return y

    x, s = _randn(3, 2), _randn(2, 2)
    check(lambda x, s: fn(ember_or_torch(x), x, s), [x, s])


def test_non_contiguous_inputs():
    x, s = _randn(4, 3), _randn(3, 2)
    check(lambda x, s: x.t().index_copy(1, ember_or_torch(x).tensor([3, 1]), s[:, ::1] * 1), [x, s])
    check(lambda x: x.t().take(ember_or_torch(x).tensor([1, 5, 11])), [x])
    check(lambda x, s: x.t().put(ember_or_torch(x).tensor([1, 5, 11]), s.reshape(-1)[:3]), [x, s])


def test_in_place_writes_reach_shared_memory_without_grad():
    base = np.zeros((3, 4), dtype=np.float32)
    t = ember.from_numpy(base)
    t.t().index_fill_(0, ember.tensor([2]), 5.0)
    t.t().put_(ember.tensor([0]), ember.tensor([7.0]))
    t.index_add_(0, ember.tensor([0]), ember.ones(1, 4))
    expected = torch.zeros(3, 4)
    expected.t().index_fill_(0, torch.tensor([2]), 5.0)
    expected.t().put_(torch.tensor([0]), torch.tensor([7.0]))
    expected.index_add_(0, torch.tensor([0]), torch.ones(1, 4))
    np.testing.assert_array_equal(base, expected.numpy())


def test_version_counter_moves_and_saved_values_are_guarded():
    x = ember.ones(3, requires_grad=True)
    y = x * 2
    z = y * y  # saves y
    before = y._version
    y.index_fill_(0, ember.tensor([0]), 0.0)
    assert y._version > before
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_leaf_requiring_grad_refused_in_place():
    x = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.index_add_(0, ember.tensor([0]), ember.ones(1))
    with ember.no_grad():
        x.index_add_(0, ember.tensor([0]), ember.ones(1))
    assert x.tolist() == [1.0, 0.0, 0.0]


def test_self_as_source_is_refused_as_torch_refuses_it():
    # a GPU kernel would read sources it has overwritten (tests/core/_ops/test_memory_overlap.py)
    same_outcome(lambda L: (lambda x: x.index_copy_(0, L.tensor([1, 2, 3, 0]), x))(L.arange(4.0)),
                 raises=RuntimeError)


# ------------------------------------------------------------------ dtypes, duplicates, empty


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float16"])
def test_other_dtypes(dtype):
    x = np.arange(12).reshape(3, 4) % 3
    src = np.arange(8).reshape(2, 4) % 2
    calls = [
        lambda lib, x, s: x.index_add(0, lib.tensor([2, 2]), s),
        lambda lib, x, s: x.index_copy(0, lib.tensor([1, 0]), s),
        lambda lib, x, s: x.index_fill(1, lib.tensor([3]), 1),
        lambda lib, x, s: x.masked_scatter(x > 0, lib.cat([s.reshape(-1), s.reshape(-1)])),
        lambda lib, x, s: x.put(lib.tensor([0, 0, 1]), s.reshape(-1)[:3], accumulate=True),
        lambda lib, x, s: x.take(lib.tensor([[3, -1]])),
    ]
    for call in calls:
        results = []
        for lib in (ember, torch):
            dt = getattr(lib, dtype)
            results.append(call(lib, lib.tensor(x).to(dt), lib.tensor(src).to(dt)))
        e, t = results
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_repeated_indices():
    i = ember.tensor([1, 1, 1])
    assert ember.zeros(3).index_add(0, i, ember.tensor([1.0, 2.0, 3.0])).tolist() == [0.0, 6.0, 0.0]
    assert ember.zeros(3).put(i, ember.tensor([1.0, 2.0, 3.0]), accumulate=True).tolist() == [0.0, 6.0, 0.0]
    # without accumulation one of the values is kept: always the same one
    first = ember.zeros(3).index_copy(0, i, ember.tensor([1.0, 2.0, 3.0])).tolist()
    assert first[1] in (1.0, 2.0, 3.0)
    for _ in range(3):
        assert ember.zeros(3).index_copy(0, i, ember.tensor([1.0, 2.0, 3.0])).tolist() == first


def test_empty_index():
    empty = np.zeros(0, dtype=np.int64)
    check(lambda x, i, s: x.index_add(0, i, s), [_randn(3, 2), empty, _randn(0, 2)])
    check(lambda x, i, s: x.index_copy(1, i, s), [_randn(3, 2), empty, _randn(3, 0)])
    check(lambda x, i: x.index_fill(0, i, 1.0), [_randn(3, 2), empty])
    check(lambda x, i, s: x.put(i, s), [_randn(3, 2), empty, _randn(0)])
    check(lambda x, i: x.take(i), [_randn(3, 2), empty.reshape(0, 3)])
    check(lambda x, i: x.take(i), [_randn(0), empty])


def test_grad_fn_names():
    x = ember.zeros(3, requires_grad=True)
    i, s = ember.tensor([0]), ember.ones(1)
    assert type(x.index_add(0, i, s).grad_fn).__name__ == "IndexAddBackward0"
    assert type(x.index_copy(0, i, s).grad_fn).__name__ == "IndexCopyBackward0"
    assert type(x.index_fill(0, i, 1).grad_fn).__name__ == "IndexFillBackward0"
    assert type(x.index_fill(0, i, ember.tensor(1.0)).grad_fn).__name__ == "IndexFillBackward1"
    assert type(x.masked_scatter(x > 0, s).grad_fn).__name__ == "MaskedScatterBackward0"
    assert type(x.put(i, s).grad_fn).__name__ == "PutBackward0"
    assert type(x.take(i).grad_fn).__name__ == "TakeBackward0"


def test_value_tensor_alone_requires_grad():
    v = ember.tensor(2.0, requires_grad=True)
    out = ember.zeros(2, 3).index_fill(1, ember.tensor([0, 2, 2]), v)
    out.sum().backward()
    assert v.grad.item() == 4.0


# ------------------------------------------------------------------ bad input

BAD = {
    "index_add index out of range": lambda lib, x: x.index_add(0, lib.tensor([0, 3]), lib.ones(2, 4)),
    "index_add negative index": lambda lib, x: x.index_add(0, lib.tensor([0, -1]), lib.ones(2, 4)),
    "index_add float index": lambda lib, x: x.index_add(0, lib.tensor([0.0]), lib.ones(1, 4)),
    "index_add int16 index": lambda lib, x: x.index_add(0, lib.tensor([0]).short(), lib.ones(1, 4)),
    "index_add 2-D index": lambda lib, x: x.index_add(0, lib.tensor([[0]]), lib.ones(1, 4)),
    "index_add count": lambda lib, x: x.index_add(0, lib.tensor([0, 1]), lib.ones(3, 4)),
    "index_add slice shape": lambda lib, x: x.index_add(0, lib.tensor([0, 1]), lib.ones(2, 5)),
    "index_add extra dim": lambda lib, x: x.index_add(0, lib.tensor([0, 1]), lib.ones(2, 4, 1)),
    "index_add dtype": lambda lib, x: x.index_add(0, lib.tensor([0]), lib.ones(1, 4).double()),
    "index_add dim": lambda lib, x: x.index_add(2, lib.tensor([0]), lib.ones(1, 4)),
    "index_add list index": lambda lib, x: x.index_add(0, [0], lib.ones(1, 4)),
    "index_add float dim": lambda lib, x: x.index_add(0.0, lib.tensor([0]), lib.ones(1, 4)),
    "index_add alpha": lambda lib, x: x.index_add(0, lib.tensor([0]), lib.ones(1, 4), alpha="a"),
    "index_copy out of range": lambda lib, x: x.index_copy(1, lib.tensor([4]), lib.ones(3, 1)),
    "index_copy negative": lambda lib, x: x.index_copy(1, lib.tensor([-1]), lib.ones(3, 1)),
    "index_copy int32 index": lambda lib, x: x.index_copy(1, lib.tensor([0]).int(), lib.ones(3, 1)),
    "index_copy 2-D index": lambda lib, x: x.index_copy(1, lib.tensor([[0]]), lib.ones(3, 1)),
    "index_copy dtype": lambda lib, x: x.index_copy(1, lib.tensor([0]), lib.ones(3, 1).double()),
    "index_copy slices": lambda lib, x: x.index_copy(1, lib.tensor([0]), lib.ones(2, 1)),
    "index_copy count": lambda lib, x: x.index_copy(1, lib.tensor([0]), lib.ones(3, 2)),
    "index_copy ndim": lambda lib, x: x.index_copy(1, lib.tensor([0]), lib.ones(3)),
    "index_copy scalar source": lambda lib, x: x.index_copy(1, lib.tensor([0, 1]), lib.tensor(1.0)),
    "index_fill out of range": lambda lib, x: x.index_fill(0, lib.tensor([3]), 1.0),
    "index_fill negative out of range": lambda lib, x: x.index_fill(0, lib.tensor([-4]), 1.0),
    "index_fill int32 index": lambda lib, x: x.index_fill(0, lib.tensor([0]).int(), 1.0),
    "index_fill 2-D index": lambda lib, x: x.index_fill(0, lib.tensor([[0]]), 1.0),
    "index_fill 1-D value": lambda lib, x: x.index_fill(0, lib.tensor([0]), lib.tensor([1.0])),
    "index_fill str value": lambda lib, x: x.index_fill(0, lib.tensor([0]), "a"),
    "index_fill overflow": lambda lib, x: x.byte().index_fill(0, lib.tensor([0]), 300),
    "masked_scatter short source": lambda lib, x: x.masked_scatter(x == 0, lib.ones(11)),
    "masked_scatter byte mask": lambda lib, x: x.masked_scatter((x == 0).byte(), lib.ones(12)),
    "masked_scatter dtype": lambda lib, x: x.masked_scatter(x == 0, lib.ones(12).double()),
    "masked_scatter shapes": lambda lib, x: x.masked_scatter(lib.ones(3, 5).bool(), lib.ones(15)),
    "masked_scatter number": lambda lib, x: x.masked_scatter(x == 0, 1.0),
    "masked_scatter_ bigger mask": lambda lib, x: x[0].masked_scatter_(x == 0, lib.ones(12)),
    "put out of range": lambda lib, x: x.put(lib.tensor([12]), lib.ones(1)),
    "put negative out of range": lambda lib, x: x.put(lib.tensor([-13]), lib.ones(1)),
    "put int32 index": lambda lib, x: x.put(lib.tensor([0]).int(), lib.ones(1)),
    "put float index": lambda lib, x: x.put(lib.tensor([0.0]), lib.ones(1)),
    "put counts": lambda lib, x: x.put(lib.tensor([0, 1]), lib.ones(3)),
    "put dtype": lambda lib, x: x.put(lib.tensor([0]), lib.ones(1).double()),
    "put into empty": lambda lib, x: lib.zeros(0).put(lib.tensor([0]), lib.ones(1)),
    "take out of range": lambda lib, x: x.take(lib.tensor([12])),
    "take negative out of range": lambda lib, x: x.take(lib.tensor([-13])),
    "take int32 index": lambda lib, x: x.take(lib.tensor([0]).int()),
    "take from empty": lambda lib, x: lib.zeros(0).take(lib.tensor([0])),
}


@pytest.mark.filterwarnings("ignore:masked_scatter_ received a mask with dtype torch.uint8")
@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_as_torch_does_and_writes_nothing(name):
    call = BAD[name]
    x = ember.zeros(3, 4)
    ours, _ = same_outcome(lambda: call(ember, x), (), lambda: call(torch, torch.zeros(3, 4)), raises=True)
    assert ours.message, "an empty message"
    assert not x.numpy().any()


@pytest.mark.parametrize("method", ["index_add_", "index_copy_", "put_"])
def test_in_place_refused_before_any_write(method):
    x = ember.zeros(3)
    args = {"index_add_": (0, ember.tensor([0, 5]), ember.ones(2)),
            "index_copy_": (0, ember.tensor([0, 5]), ember.ones(2)),
            "put_": (ember.tensor([0, 5]), ember.ones(2))}[method]
    with pytest.raises((IndexError, RuntimeError), match="out of"):
        getattr(x, method)(*args)
    assert x.tolist() == [0.0, 0.0, 0.0]


def test_expanded_tensor_refused_in_place():
    x = ember.zeros(1, 3).expand(2, 3)
    with pytest.raises(RuntimeError, match="single memory location"):
        x.index_fill_(1, ember.tensor([0]), 1.0)
