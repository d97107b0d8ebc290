"""In-place writes that read memory they write: refused where torch refuses them
(a GPU kernel would race with such an input), done where torch does them."""

import numpy as np
import pytest

import ember
from ember._ops import overlap
from tests.oracle import same_outcome


def _square(a):
    return a[:16].view(4, 4)


# (a, i): a = arange(20.), i = [1, 0, 3, 2]; each case returns what it wrote into
CASES = {
    "add_ partial": lambda a, i: a[1:5].add_(a[:4]),
    "add_ itself": lambda a, i: a.add_(a),
    "add_ equal views": lambda a, i: _square(a).add_(_square(a)),
    "add_ transposed": lambda a, i: _square(a).t().add_(_square(a)),
    "add_ row and column": lambda a, i: _square(a)[0].add_(_square(a)[:, 0]),
    "add_ strided columns": lambda a, i: _square(a)[:, :1].add_(_square(a)[:, 1:2]),
    "add_ reshaped itself": lambda a, i: a[:3].view(1, 3).add_(a[:3]),
    "add_ empty": lambda a, i: a[:0].add_(a[:0]),
    "mul_ its own element": lambda a, i: a[:4].mul_(a[0]),
    "mul_ an element before": lambda a, i: a[1:4].mul_(a[0]),
    "sub_ alpha partial": lambda a, i: a[1:5].sub_(a[:4], alpha=2),
    "pow_ partial": lambda a, i: a[1:5].pow_(a[:4]),
    "atan2_ partial": lambda a, i: a[1:5].atan2_(a[:4]),
    "clamp_ max partial": lambda a, i: a[1:5].clamp_(max=a[:4]),
    "lerp_ partial": lambda a, i: a[1:5].lerp_(a[:4], 0.5),
    "lerp_ weight partial": lambda a, i: a[:4].lerp_(a[8:12], a[1:5]),
    "addcmul_ partial": lambda a, i: a[:4].addcmul_(a[1:5], a[8:12]),
    "addcdiv_ partial": lambda a, i: a[1:5].addcdiv_(a[:4], a[8:12] + 1),
    "addr_ partial": lambda a, i: a[:4].view(2, 2).addr_(a[1:3], a[8:10]),
    "addmm_ partial": lambda a, i: a[:4].view(2, 2).addmm_(a[1:5].view(2, 2), a[8:12].view(2, 2)),
    "masked_fill_ own value": lambda a, i: a[1:5].masked_fill_(a[1:5] > 2, a[1]),
    "copy_ partial": lambda a, i: a[1:5].copy_(a[:4]),
    "copy_ itself": lambda a, i: a.copy_(a),
    "copy_ broadcast own element": lambda a, i: a[1:].copy_(a[1]),
    "copy_ broadcast other element": lambda a, i: a[1:].copy_(a[0]),
    "scatter_ itself": lambda a, i: a[:4].scatter_(0, i, a[:4]),
    "scatter_ source partial": lambda a, i: a[:4].scatter_(0, i[:2], a[2:4]),
    "scatter_ apart": lambda a, i: a[:4].scatter_(0, i[:2], a[4:6]),
    "scatter_add_ itself": lambda a, i: a[:4].scatter_add_(0, i, a[:4]),
    "index_add_ itself": lambda a, i: a[:4].index_add_(0, i, a[:4]),
    "index_copy_ source partial": lambda a, i: a[:4].index_copy_(0, i[:2], a[2:4]),
    "index_fill_ own value": lambda a, i: a[1:5].index_fill_(0, i[:1], a[1]),
    "put_ source partial": lambda a, i: a[:4].put_(i[:2], a[2:4]),
    "setitem slice partial": lambda a, i: a.__setitem__(slice(0, 2), a[1:3]),
    "setitem slice itself": lambda a, i: a.__setitem__(slice(None), a),
    "setitem int own element": lambda a, i: a.__setitem__(0, a[0]),
    "setitem row from column": lambda a, i: _square(a).__setitem__(0, _square(a)[:, 0]),
    "setitem index partial": lambda a, i: a.__setitem__(i[:2], a[2:4]),
    "setitem index itself": lambda a, i: a[:4].__setitem__(i, a[:4]),
    "setitem index own element": lambda a, i: a.__setitem__(i[:2], a[0]),
    "setitem mask own element": lambda a, i: a.__setitem__(a > 1, a[0]),
    "setitem mask own one-element": lambda a, i: a.__setitem__(a > 1, a[0:1]),
    "setitem mask row": lambda a, i: _square(a).__setitem__(_square(a)[:, 0] > 4, _square(a)[1]),
    "setitem slice and index": lambda a, i: _square(a).__setitem__((slice(None), i[:2]), _square(a)[:, 2:4]),
    "setitem out of range": lambda a, i: a.__setitem__(30, a[0]),
    "setitem index overlapping": lambda a, i: i.__setitem__(i[:2], i[2:]),
    "index_add_ index overlapping": lambda a, i: i.index_add_(0, i[:2], i[2:] * 0),
    "neg_": lambda a, i: a[1:5].neg_(),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_in_place_writes_refuse_reading_what_they_write_as_torch_does(device, case):
    def run(a, i):
        case(a, i)
        return a, i

    same_outcome(run, [np.arange(20.0), np.array([1, 0, 3, 2])], message=lambda m: m[:60])


def test_recorded_in_place_writes_refuse_partial_overlap_too(device):
    for op in (lambda a: a[1:5].add_(a[:4]), lambda a: a[1:5].copy_(a[:4])):
        same_outcome(lambda L: op(L.arange(8.0, requires_grad=True, device=device) * 1), raises=RuntimeError,
                     torch_fn=lambda L: op(L.arange(8.0, requires_grad=True) * 1))


def test_the_rule_sorts_array_pairs_as_torch_memory_overlap_status():
    a = np.arange(16.0)
    square = a.reshape(4, 4)
    assert overlap._overlap(a, a) == "full"
    assert overlap._overlap(square, a.reshape(4, 4)) == "full"
    assert overlap._overlap(square.T, square) == "partial"        # one span, other strides
    assert overlap._overlap(a[1:5], a[:4]) == "partial"
    assert overlap._overlap(a[:3], a[3:6]) is None                # adjacent spans
    assert overlap._overlap(square[0], square[:, 0]) is None      # a column has gaps: too hard
    assert overlap._overlap(a[::-1], a) is None                   # a negative step: too hard
    assert overlap._overlap(a[:0], a) is None
    assert overlap._overlap(np.broadcast_to(a[:1], (3,)), a) is None  # repeats: too hard


def test_the_fast_arithmetic_path_is_checked_too():
    # no autograd, same dtype: ``add_`` computes straight into the tensor's memory
    a = ember.arange(6.0)
    with pytest.raises(RuntimeError, match="single memory location"):
        a[1:].add_(a[:-1])
    assert a.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


# (a, i): a = zeros(3).expand(3, 3), whose rows share their memory; i = [0]
EXPANDED = {
    "add_": lambda a, i: a.add_(1),
    "relu_": lambda a, i: a.relu_(),
    "F.relu inplace": lambda a, i: (ember.nn.functional if isinstance(a, ember.Tensor) else
                                    __import__("torch").nn.functional).relu(a, inplace=True),
    "mul_ by a tensor": lambda a, i: a.mul_(a.new_ones(3, 3)),
    "clamp_": lambda a, i: a.clamp_(0, 1),
    "copy_": lambda a, i: a.copy_(a.new_ones(3, 3)),
    "uniform_": lambda a, i: a.uniform_(),
    "index_add_": lambda a, i: a.index_add_(0, i, a.new_ones(1, 3)),
    "setitem all": lambda a, i: a.__setitem__(slice(None), 1.0),
    "setitem column": lambda a, i: a.__setitem__((slice(None), 0), 1.0),
}


@pytest.mark.parametrize("case", EXPANDED.values(), ids=EXPANDED.keys())
def test_writes_into_a_tensor_whose_elements_share_memory_are_refused(device, case):
    # on a GPU nothing marks such a view read-only: its zero strides tell
    same_outcome(lambda a, i: case(a.expand(3, 3), i), [np.zeros(3), np.array([0])], raises=RuntimeError,
                 message=lambda m: m[:60])
