"""Hostile inputs to every nn layer family, swept by category.

Each case is a function ``case(L)`` run with ``L = ember`` and ``L = torch``.

* ``RAISES`` cases: ember must raise the given exception type with a message
  matching the given fragment (the fragment names the problem: the argument,
  the bad value, the expected and the received).  Where torch raises too,
  ember's exception must be of torch's type.  Where torch accepts the input,
  the case must be listed in ``DELIBERATE`` with the reason ember refuses it.
* ``SAME`` cases: valid but unusual inputs (empty batches, non-contiguous
  layouts): ember must give torch's answer.

The generated part runs every layer of the table ``LAYERS`` through ranks,
dtypes, channels, empty inputs, types and layouts; hand-written tables cover
constructor arguments, indices, NaN/inf hyper-parameters, huge sizes,
recurrent hidden states, devices, init and the nn utils.
"""

import fnmatch
import re

import numpy as np
import pytest

import ember
from tests.conformance.test_hostile_inputs import TOL, R, T, det
from tests.oracle import assert_same, outcome, same_outcome, torch

NAN, INF = float("nan"), float("inf")


def F(L):
    return L.nn.functional


def lab(L, data):
    return T(L, data, dtype="int64")


# --------------------------------------------------------------------------
# the layer table: name -> (make the module, a valid input shape, lowest and
# highest input rank the layer takes, the channel axis or None)

def _m(name, *args, **kw):
    return lambda L: getattr(L.nn, name)(*args, **kw)


LAYERS = {
    # linear
    "Linear": (_m("Linear", 3, 2), (4, 3), 1, None, -1),
    "Identity": (_m("Identity"), (4, 3), 0, None, None),
    "Flatten": (_m("Flatten"), (2, 3, 2), 1, None, None),
    "Unflatten": (_m("Unflatten", 1, (2, 3)), (2, 6), 2, None, None),
    # convolution
    "Conv1d": (_m("Conv1d", 2, 3, 2), (2, 2, 5), 2, 3, 1),
    "Conv2d": (_m("Conv2d", 2, 3, 2), (2, 2, 4, 4), 3, 4, 1),
    "Conv3d": (_m("Conv3d", 2, 3, 2), (1, 2, 3, 3, 3), 4, 5, 1),
    "Conv2d-reflect": (_m("Conv2d", 2, 3, 2, padding=1, padding_mode="reflect"), (2, 2, 4, 4), 3, 4, 1),
    "ConvTranspose1d": (_m("ConvTranspose1d", 2, 3, 2), (2, 2, 5), 2, 3, 1),
    "ConvTranspose2d": (_m("ConvTranspose2d", 2, 3, 2), (2, 2, 4, 4), 3, 4, 1),
    "ConvTranspose3d": (_m("ConvTranspose3d", 2, 3, 2), (1, 2, 3, 3, 3), 4, 5, 1),
    "Unfold": (_m("Unfold", 2), (2, 2, 4, 4), 3, 4, None),
    "Fold": (_m("Fold", (3, 3), 2), (2, 8, 4), 2, 3, 1),
    # pooling
    "MaxPool1d": (_m("MaxPool1d", 2), (2, 3, 6), 2, 3, None),
    "MaxPool2d": (_m("MaxPool2d", 2), (2, 3, 4, 4), 3, 4, None),
    "MaxPool3d": (_m("MaxPool3d", 2), (1, 2, 4, 4, 4), 4, 5, None),
    "AvgPool1d": (_m("AvgPool1d", 2), (2, 3, 6), 2, 3, None),
    "AvgPool2d": (_m("AvgPool2d", 2), (2, 3, 4, 4), 3, 4, None),
    "AvgPool3d": (_m("AvgPool3d", 2), (1, 2, 4, 4, 4), 4, 5, None),
    "LPPool1d": (_m("LPPool1d", 2, 2), (2, 3, 6), 2, 3, None),
    "LPPool2d": (_m("LPPool2d", 2, 2), (2, 3, 4, 4), 3, 4, None),
    "AdaptiveAvgPool1d": (_m("AdaptiveAvgPool1d", 2), (2, 3, 6), 2, 3, None),
    "AdaptiveAvgPool2d": (_m("AdaptiveAvgPool2d", 2), (2, 3, 4, 4), 3, 4, None),
    "AdaptiveAvgPool3d": (_m("AdaptiveAvgPool3d", 2), (1, 2, 4, 4, 4), 4, 5, None),
    "AdaptiveMaxPool1d": (_m("AdaptiveMaxPool1d", 2), (2, 3, 6), 2, 3, None),
    "AdaptiveMaxPool2d": (_m("AdaptiveMaxPool2d", 2), (2, 3, 4, 4), 3, 4, None),
    "AdaptiveMaxPool3d": (_m("AdaptiveMaxPool3d", 2), (1, 2, 4, 4, 4), 4, 5, None),
    "FractionalMaxPool2d": (_m("FractionalMaxPool2d", 2, output_size=2), (2, 3, 5, 5), 3, 4, None),
    # padding
    "ZeroPad2d": (_m("ZeroPad2d", 1), (2, 3, 4, 4), 3, 4, None),
    "ConstantPad1d": (_m("ConstantPad1d", 1, 0.5), (2, 3, 4), 2, 3, None),
    "ReflectionPad1d": (_m("ReflectionPad1d", 1), (2, 3, 4), 2, 3, None),
    "ReflectionPad2d": (_m("ReflectionPad2d", 1), (2, 3, 4, 4), 3, 4, None),
    "ReplicationPad1d": (_m("ReplicationPad1d", 1), (2, 3, 4), 2, 3, None),
    "ReplicationPad3d": (_m("ReplicationPad3d", 1), (1, 2, 3, 3, 3), 4, 5, None),
    "CircularPad2d": (_m("CircularPad2d", 1), (2, 3, 4, 4), 3, 4, None),
    # normalization
    "BatchNorm1d": (_m("BatchNorm1d", 3), (4, 3, 5), 2, 3, 1),
    "BatchNorm2d": (_m("BatchNorm2d", 3), (2, 3, 4, 4), 4, 4, 1),
    "BatchNorm3d": (_m("BatchNorm3d", 3), (2, 3, 2, 2, 2), 5, 5, 1),
    "InstanceNorm1d": (_m("InstanceNorm1d", 3, affine=True), (2, 3, 5), 2, 3, 1),
    "InstanceNorm2d": (_m("InstanceNorm2d", 3, affine=True), (2, 3, 4, 4), 3, 4, 1),
    "GroupNorm": (_m("GroupNorm", 2, 4), (2, 4, 3), 2, None, 1),
    "LayerNorm": (_m("LayerNorm", 3), (2, 4, 3), 1, None, -1),
    "LocalResponseNorm": (_m("LocalResponseNorm", 2), (2, 3, 4), 3, None, None),
    # recurrent
    "RNN": (_m("RNN", 3, 4), (5, 2, 3), 2, 3, -1),
    "LSTM": (_m("LSTM", 3, 4), (5, 2, 3), 2, 3, -1),
    "GRU": (_m("GRU", 3, 4, batch_first=True), (2, 5, 3), 2, 3, -1),
    "RNNCell": (_m("RNNCell", 3, 4), (2, 3), 1, 2, -1),
    "LSTMCell": (_m("LSTMCell", 3, 4), (2, 3), 1, 2, -1),
    "GRUCell": (_m("GRUCell", 3, 4), (2, 3), 1, 2, -1),
    # activation (module forms)
    "ReLU": (_m("ReLU"), (2, 3), 0, None, None),
    "PReLU": (_m("PReLU", 3), (2, 3, 4), 1, None, 1),
    "Softmax": (_m("Softmax", dim=1), (2, 3), 2, None, None),
    "GLU": (_m("GLU"), (2, 4), 1, None, None),
    "Softmax2d": (_m("Softmax2d"), (2, 3, 4, 4), 3, 4, None),
    # dropout (eval: deterministic)
    "Dropout": (lambda L: L.nn.Dropout(0.5).eval(), (2, 3), 0, None, None),
    "Dropout2d": (lambda L: L.nn.Dropout2d(0.5).eval(), (2, 3, 4, 4), 3, 4, None),
    # vision
    "Upsample": (_m("Upsample", scale_factor=2), (2, 3, 4), 3, 5, None),
    "UpsamplingBilinear2d": (_m("UpsamplingBilinear2d", scale_factor=2), (2, 3, 4, 4), 4, 4, None),
    "PixelShuffle": (_m("PixelShuffle", 2), (2, 8, 3, 3), 3, None, None),
    "PixelUnshuffle": (_m("PixelUnshuffle", 2), (2, 2, 4, 4), 3, None, None),
    # sparse: integer indices
    "Embedding": (_m("Embedding", 10, 3), (2, 4), 0, None, None),
}

RANDOM = {"FractionalMaxPool2d"}          # values depend on the random stream
INDEX_INPUT = {"Embedding"}                # takes integer indices, not floats


def layer(L, name):
    module = det(L, LAYERS[name][0](L))
    return module


def _input(L, name, shape, dtype="float32"):
    if name in INDEX_INPUT:
        return lab(L, np.arange(int(np.prod(shape))).reshape(shape) % 10)
    return R(L, *shape, dtype=dtype)


def _run(L, name, x):
    out = layer(L, name)(x)
    return out[0] if isinstance(out, tuple) else out


CASES = {}   # name -> (category, case, fragment the message must match when it raises)


def _shape_names(shape):
    """A fragment matching a message that names ``shape`` or its rank."""
    nd = len(shape)
    dims = r"\D+".join(str(s) for s in shape)
    span = max(nd, 1)
    return (rf"(\b{nd}-?D\b|\b{nd} dim|{nd}-dim|(got|received) {nd}\b|{dims}|size\s?\[\]|\(\)"
            rf"|range of \[-{span}, {span - 1}\])")


DTYPE_NAMES = r"(Long|Bool|Double|int64|bool|float64|long|double)"
TYPE_NAMES = r"(?=.*Tensor)(?=.*\b(list|ndarray|NoneType)\b)"
EMPTY_NAMES = r"(\b0\b|x0\b|empty|zero)"


def _add(name, category, fn, fragment):
    assert name not in CASES, name
    CASES[name] = (category, fn, fragment)


def _on(name, shape, dtype="float32", transform=None):
    """The case: layer ``name`` applied to an input of ``shape``."""
    def case(L):
        x = _input(L, name, shape, dtype)
        return _run(L, name, transform(x) if transform else x)
    return case


for lname, (make, shape, lo, hi, chan) in LAYERS.items():
    nd = len(shape)
    if lo > 0:
        few = shape[nd - lo + 1:]
        _add(f"rank-few-{lname}", "ranks", _on(lname, few), _shape_names(few))
    if hi is not None:
        many = (1,) * (hi + 1 - nd) + shape
        _add(f"rank-many-{lname}", "ranks", _on(lname, many), _shape_names(many))
    if lname in INDEX_INPUT:
        _add(f"dtype-float-{lname}", "dtypes", lambda L, n=lname: _run(L, n, R(L, *LAYERS[n][1])),
             r"(Float|float32)")
    else:
        for dt in ("int64", "bool", "float64"):
            _add(f"dtype-{dt}-{lname}", "dtypes", _on(lname, shape, dt), DTYPE_NAMES)
    if chan is not None:
        bad, zero = list(shape), list(shape)
        bad[chan] += 1
        zero[chan] = 0
        _add(f"channels-{lname}", "channels", _on(lname, tuple(bad)), rf"(?<!\d){bad[chan]}(?!\d)")
        _add(f"empty-channels-{lname}", "empty", _on(lname, tuple(zero)), EMPTY_NAMES)
    if nd:
        for axis, label in ((0, "batch"), (nd - 1, "last")):
            empty = list(shape)
            empty[axis] = 0
            _add(f"empty-{label}-{lname}", "empty", _on(lname, tuple(empty)), EMPTY_NAMES)
    for kind, make_bad in (("list", lambda x: x.tolist()), ("ndarray", lambda x: x.numpy()),
                           ("None", lambda x: None)):
        if lname != "Identity":   # passes anything through, as torch's does
            _add(f"type-{kind}-{lname}", "types", _on(lname, shape, transform=make_bad), TYPE_NAMES)
    if lname not in RANDOM and nd:
        wide = shape[:-1] + (2 * shape[-1],)
        _add(f"layout-strided-{lname}", "layouts", _on(lname, wide, transform=lambda x: x[..., ::2]), None)
        if nd >= 2:
            swapped = shape[:-2] + (shape[-1], shape[-2])
            _add(f"layout-transposed-{lname}", "layouts",
                 _on(lname, swapped, transform=lambda x: x.transpose(-1, -2)), None)


# --------------------------------------------------------------------------
# constructor arguments: (name, case, fragment)

CTOR = [
    ("Linear-neg", lambda L: L.nn.Linear(-1, 2), r"-1"),
    ("Linear-float", lambda L: L.nn.Linear(2.5, 2), r"2\.5|float"),
    ("Linear-str", lambda L: L.nn.Linear("3", 2), r"str"),
    ("Linear-None", lambda L: L.nn.Linear(None, 2), r"None"),
    ("Linear-bool", lambda L: L.nn.Linear(True, 2), r"bool"),
    ("Linear-out-neg", lambda L: L.nn.Linear(2, -3), r"-3"),
    ("Bilinear-neg", lambda L: L.nn.Bilinear(2, -1, 3), r"-1"),
    ("Conv2d-in-neg", lambda L: L.nn.Conv2d(-2, 3, 2), r"-2"),
    ("Conv2d-out-zero", lambda L: L.nn.Conv2d(2, 0, 2), r"out_channels"),
    ("Conv2d-in-float", lambda L: L.nn.Conv2d(2.0, 3, 2), r"float"),
    ("Conv2d-kernel-zero", lambda L: L.nn.Conv2d(2, 3, 0), r"kernel"),
    ("Conv2d-kernel-neg", lambda L: L.nn.Conv2d(2, 3, -1), r"kernel"),
    ("Conv2d-kernel-float", lambda L: L.nn.Conv2d(2, 3, 2.5), r"kernel_size"),
    ("Conv2d-kernel-None", lambda L: L.nn.Conv2d(2, 3, None), r"kernel_size"),
    ("Conv2d-kernel-3tuple", lambda L: L.nn.Conv2d(2, 3, (2, 2, 2)), r"kernel_size"),
    ("Conv2d-stride-zero", lambda L: L.nn.Conv2d(2, 3, 2, stride=0), r"stride"),
    ("Conv2d-stride-neg", lambda L: L.nn.Conv2d(2, 3, 2, stride=-1), r"stride"),
    ("Conv2d-padding-neg", lambda L: L.nn.Conv2d(2, 3, 2, padding=-1), r"padding"),
    ("Conv2d-dilation-zero", lambda L: L.nn.Conv2d(2, 3, 2, dilation=0), r"dilation"),
    ("Conv2d-groups-zero", lambda L: L.nn.Conv2d(2, 4, 2, groups=0), r"groups"),
    ("Conv2d-groups-indivisible", lambda L: L.nn.Conv2d(2, 3, 2, groups=2), r"groups"),
    ("Conv2d-groups-float", lambda L: L.nn.Conv2d(2, 4, 2, groups=2.0), r"groups"),
    ("Conv2d-padding-mode", lambda L: L.nn.Conv2d(2, 3, 2, padding_mode="bogus"), r"bogus"),
    ("Conv2d-padding-str", lambda L: L.nn.Conv2d(2, 3, 2, padding="bogus"), r"bogus"),
    ("Conv2d-same-strided", lambda L: L.nn.Conv2d(2, 3, 2, padding="same", stride=2), r"same"),
    ("ConvTranspose2d-out-pad", lambda L: L.nn.ConvTranspose2d(2, 3, 2, stride=1, output_padding=2)(
        R(L, 1, 2, 3, 3)), r"output padding"),
    ("ConvTranspose2d-mode", lambda L: L.nn.ConvTranspose2d(2, 3, 2, padding_mode="reflect"), r"zeros"),
    ("MaxPool2d-kernel-zero", lambda L: L.nn.MaxPool2d(0)(R(L, 1, 1, 4, 4)), r"kernel"),
    ("MaxPool2d-kernel-neg", lambda L: L.nn.MaxPool2d(-2)(R(L, 1, 1, 4, 4)), r"kernel"),
    ("MaxPool2d-stride-zero", lambda L: L.nn.MaxPool2d(2, stride=0)(R(L, 1, 1, 4, 4)), r"stride"),
    ("MaxPool2d-padding-big", lambda L: L.nn.MaxPool2d(2, padding=2)(R(L, 1, 1, 4, 4)), r"pad"),
    ("MaxPool2d-dilation-zero", lambda L: L.nn.MaxPool2d(2, dilation=0)(R(L, 1, 1, 4, 4)), r"dilation"),
    ("MaxPool2d-kernel-float", lambda L: L.nn.MaxPool2d(2.5)(R(L, 1, 1, 4, 4)), r"kernel_size|float"),
    ("AvgPool2d-divisor-zero", lambda L: L.nn.AvgPool2d(2, divisor_override=0)(R(L, 1, 1, 4, 4)), r"divisor"),
    ("AvgPool2d-padding-big", lambda L: L.nn.AvgPool2d(2, padding=2)(R(L, 1, 1, 4, 4)), r"pad"),
    ("AvgPool1d-stride-neg", lambda L: L.nn.AvgPool1d(2, stride=-1)(R(L, 1, 1, 4)), r"stride"),
    ("LPPool2d-norm-zero", lambda L: L.nn.LPPool2d(0, 2)(R(L, 1, 1, 4, 4)), r"norm_type"),
    ("AdaptiveAvgPool2d-neg", lambda L: L.nn.AdaptiveAvgPool2d(-1)(R(L, 1, 1, 4, 4)), r"-1|output_size"),
    ("AdaptiveMaxPool1d-zero", lambda L: L.nn.AdaptiveMaxPool1d(0)(R(L, 1, 1, 4)), r"output_size|0"),
    ("AdaptiveAvgPool2d-3tuple", lambda L: L.nn.AdaptiveAvgPool2d((1, 2, 3))(R(L, 1, 1, 4, 4)), r"output_size"),
    ("FractionalMaxPool2d-no-size", lambda L: L.nn.FractionalMaxPool2d(2), r"output.size|ratio"),
    ("FractionalMaxPool2d-ratio-big", lambda L: L.nn.FractionalMaxPool2d(2, output_ratio=1.5), r"output_ratio"),
    ("FractionalMaxPool2d-size-big", lambda L: L.nn.FractionalMaxPool2d(2, output_size=5)(R(L, 1, 1, 4, 4)),
     r"output_size|too large|pool"),
    ("BatchNorm2d-neg", lambda L: L.nn.BatchNorm2d(-1), r"-1"),
    ("BatchNorm2d-float", lambda L: L.nn.BatchNorm2d(2.5), r"2\.5|float"),
    ("BatchNorm2d-eps-neg", lambda L: L.nn.BatchNorm2d(3, eps=-1.0), r"eps"),
    ("BatchNorm2d-momentum-big", lambda L: L.nn.BatchNorm2d(3, momentum=2.0), r"momentum"),
    ("BatchNorm2d-momentum-neg", lambda L: L.nn.BatchNorm2d(3, momentum=-0.1), r"momentum"),
    ("BatchNorm2d-momentum-str", lambda L: L.nn.BatchNorm2d(3, momentum="a"), r"momentum"),
    ("InstanceNorm1d-eps-neg", lambda L: L.nn.InstanceNorm1d(3, eps=-1.0), r"eps"),
    ("GroupNorm-indivisible", lambda L: L.nn.GroupNorm(3, 4), r"num_groups|divisible"),
    ("GroupNorm-zero-groups", lambda L: L.nn.GroupNorm(0, 4), r"num_groups|zero|divisible"),
    ("GroupNorm-eps-neg", lambda L: L.nn.GroupNorm(2, 4, eps=-1.0), r"eps"),
    ("LayerNorm-neg", lambda L: L.nn.LayerNorm(-2), r"-2"),
    ("LayerNorm-eps-neg", lambda L: L.nn.LayerNorm(3, eps=-1.0), r"eps"),
    ("LayerNorm-float", lambda L: L.nn.LayerNorm(2.5), r"2\.5|float"),
    ("LocalResponseNorm-zero", lambda L: L.nn.LocalResponseNorm(0)(R(L, 1, 2, 3)), r"size"),
    ("LocalResponseNorm-neg", lambda L: L.nn.LocalResponseNorm(-1)(R(L, 1, 2, 3)), r"size"),
    ("Embedding-neg", lambda L: L.nn.Embedding(-1, 3), r"-1"),
    ("Embedding-float", lambda L: L.nn.Embedding(10.5, 3), r"10\.5|float"),
    ("Embedding-padding-oor", lambda L: L.nn.Embedding(10, 3, padding_idx=10), r"(?i)padding_idx"),
    ("Embedding-padding-neg-oor", lambda L: L.nn.Embedding(10, 3, padding_idx=-11), r"(?i)padding_idx"),
    ("Embedding-max-norm-neg", lambda L: L.nn.Embedding(10, 3, max_norm=-1.0), r"max_norm"),
    ("Embedding-weight-shape", lambda L: L.nn.Embedding(10, 3, _weight=L.zeros(3, 3)), r"(?i)weight.*shape|shape.*weight"),
    ("EmbeddingBag-mode", lambda L: L.nn.EmbeddingBag(10, 3, mode="bogus"), r"bogus"),
    ("EmbeddingBag-neg", lambda L: L.nn.EmbeddingBag(-1, 3), r"-1"),
    ("RNN-nonlinearity", lambda L: L.nn.RNN(3, 4, nonlinearity="bogus"), r"bogus"),
    ("RNN-hidden-zero", lambda L: L.nn.RNN(3, 0), r"hidden_size"),
    ("RNN-layers-zero", lambda L: L.nn.RNN(3, 4, num_layers=0), r"num_layers"),
    ("RNN-layers-float", lambda L: L.nn.RNN(3, 4, num_layers=2.5), r"num_layers"),
    ("RNN-input-float", lambda L: L.nn.RNN(3.0, 4), r"input_size"),
    ("RNN-dropout-big", lambda L: L.nn.LSTM(3, 4, num_layers=2, dropout=1.5), r"dropout"),
    ("RNN-proj-big", lambda L: L.nn.LSTM(3, 4, proj_size=4), r"proj_size"),
    ("RNN-bidirectional-str", lambda L: L.nn.GRU(3, 4, bidirectional="yes"), r"bidirectional"),
    ("RNNCell-nonlinearity", lambda L: L.nn.RNNCell(3, 4, nonlinearity="bogus"), r"bogus"),
    ("RNNCell-hidden-neg", lambda L: L.nn.LSTMCell(3, -4), r"hidden_size|-4|-16"),
    ("GRUCell-input-zero", lambda L: det(L, L.nn.GRUCell(0, 4))(E0(L, 2, 0)), r"input_size|0"),
    ("Dropout-p-str", lambda L: L.nn.Dropout("a"), r"p|dropout"),
    ("Dropout-p-None", lambda L: L.nn.Dropout(None), r"p|dropout|None"),
    ("Dropout-p-bool", lambda L: L.nn.Dropout(True), r"p|dropout|bool"),
    ("LeakyReLU-slope-str", lambda L: L.nn.LeakyReLU("a")(R(L, 3)), r"negative_slope|str"),
    ("Softplus-beta-zero", lambda L: L.nn.Softplus(beta=0)(R(L, 3)), r"beta"),
    ("RReLU-bounds", lambda L: L.nn.RReLU(0.5, 0.1), r"lower|upper"),
    ("ELU-alpha-str", lambda L: L.nn.ELU(alpha="a")(R(L, 3)), r"alpha|str"),
    ("Softmax-dim-oor", lambda L: L.nn.Softmax(dim=3)(R(L, 2, 3)), r"3"),
    ("GLU-dim-oor", lambda L: L.nn.GLU(dim=2)(R(L, 2, 4)), r"2"),
    ("PReLU-zero", lambda L: L.nn.PReLU(0), r"num_parameters|0"),
    ("PReLU-neg", lambda L: L.nn.PReLU(-1), r"num_parameters|-1"),
    ("Upsample-no-size", lambda L: L.nn.Upsample()(R(L, 1, 1, 4)), r"size|scale_factor"),
    ("Upsample-both", lambda L: L.nn.Upsample(size=2, scale_factor=2)(R(L, 1, 1, 4)), r"size|scale_factor"),
    ("Upsample-mode", lambda L: L.nn.Upsample(scale_factor=2, mode="bogus")(R(L, 1, 1, 4)), r"bogus"),
    ("Upsample-scale-neg", lambda L: L.nn.Upsample(scale_factor=-1)(R(L, 1, 1, 4)), r"-1|scale|size"),
    ("Upsample-size-zero", lambda L: L.nn.Upsample(size=0)(R(L, 1, 1, 4)), r"0|size"),
    ("Upsample-align-nearest", lambda L: L.nn.Upsample(scale_factor=2, align_corners=True)(R(L, 1, 1, 4)),
     r"align_corners"),
    ("PixelShuffle-zero", lambda L: L.nn.PixelShuffle(0)(R(L, 1, 4, 2, 2)), r"upscale_factor|0"),
    ("PixelShuffle-neg", lambda L: L.nn.PixelShuffle(-2)(R(L, 1, 4, 2, 2)), r"upscale_factor|-2"),
    ("PixelShuffle-indivisible", lambda L: L.nn.PixelShuffle(2)(R(L, 1, 3, 2, 2)), r"divisible|3"),
    ("PixelUnshuffle-indivisible", lambda L: L.nn.PixelUnshuffle(2)(R(L, 1, 1, 3, 4)), r"divisible|3"),
    ("ZeroPad2d-3tuple", lambda L: L.nn.ZeroPad2d((1, 2, 3))(R(L, 1, 1, 3, 3)), r"(?i)padding length"),
    ("ConstantPad1d-too-negative", lambda L: L.nn.ConstantPad1d(-3, 0.0)(R(L, 1, 1, 4)), r"-3|size|negative"),
    ("ReflectionPad1d-too-big", lambda L: L.nn.ReflectionPad1d(4)(R(L, 1, 1, 4)), r"4"),
    ("ReplicationPad1d-negative", lambda L: L.nn.ReplicationPad1d(-1)(R(L, 1, 1, 4)), r"-1|pad"),
    ("F.pad-mode", lambda L: F(L).pad(R(L, 1, 1, 4), (1, 1), mode="bogus"), r"bogus"),
    ("F.pad-odd", lambda L: F(L).pad(R(L, 1, 1, 4), (1, 1, 1)), r"(?i)padding length"),
    ("F.pad-float", lambda L: F(L).pad(R(L, 1, 1, 4), (1.5, 1)), r"float|pad"),
    ("F.pad-too-long", lambda L: F(L).pad(R(L, 4), (1, 1, 1, 1)), r"pad|4|dim"),
    ("Flatten-dims", lambda L: L.nn.Flatten(2, 1)(R(L, 2, 3, 4)), r"start_dim|end_dim|flatten"),
    ("Unflatten-two-minus1", lambda L: L.nn.Unflatten(1, (-1, -1))(R(L, 2, 6)), r"-1|one dimension"),
    ("Fold-output-small", lambda L: L.nn.Fold((1, 1), 2)(R(L, 1, 4, 4)), r"output_size|blocks|1"),
    ("Unfold-kernel-zero", lambda L: L.nn.Unfold(0)(R(L, 1, 1, 3, 3)), r"kernel"),
    ("Unfold-stride-zero", lambda L: L.nn.Unfold(2, stride=0)(R(L, 1, 1, 3, 3)), r"stride"),
    ("CosineSimilarity-dim-oor", lambda L: L.nn.CosineSimilarity(dim=5)(R(L, 2, 3), R(L, 2, 3)), r"5"),
    ("TripletMarginLoss-p-zero", lambda L: L.nn.TripletMarginLoss(p=0)(R(L, 2, 3), R(L, 2, 3), R(L, 2, 3)),
     r"p|norm"),
    ("TripletMarginWithDistanceLoss-fn", lambda L: L.nn.TripletMarginWithDistanceLoss(distance_function=3)(
        R(L, 2, 3), R(L, 2, 3), R(L, 2, 3)), r"distance_function|callable|int"),
    ("AdaptiveLogSoftmax-cutoffs", lambda L: L.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [5, 3]), r"cutoffs"),
    ("AdaptiveLogSoftmax-cutoff-big", lambda L: L.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3, 10]), r"cutoffs"),
    ("MultiMarginLoss-p", lambda L: L.nn.MultiMarginLoss(p=3), r"\bp\b|1 or 2|3"),
    ("CTCLoss-reduction", lambda L: L.nn.CTCLoss(reduction="bogus")(R(L, 5, 2, 4).log_softmax(-1),
                                                                      lab(L, [[1], [2]]), (5, 5), (1, 1)),
     r"bogus"),
    ("Identity-ok", lambda L: L.nn.Identity(3, bogus=1)(R(L, 2)), None),
]


def E0(L, *shape):
    return L.zeros(*shape)


for name, case, fragment in CTOR:
    _add(f"ctor-{name}", "constructor arguments", case, fragment)


# --------------------------------------------------------------------------
# shapes and dtypes of the functionals' other arguments, and pooling windows
# larger than the (padded) input

EXTRA_CASES = [
    ("ranks", "F.linear-0d-input", lambda L: F(L).linear(T(L, 1.0), R(L, 2, 1)), r"0D"),
    ("ranks", "F.linear-0d-weight", lambda L: F(L).linear(R(L, 2, 3), T(L, 2.0)), r"0D"),
    ("ranks", "F.linear-1d-weight-bias", lambda L: F(L).linear(R(L, 2, 3), R(L, 3), R(L, 1)), r"1-D"),
    ("ranks", "F.linear-3d-weight", lambda L: F(L).linear(R(L, 2, 3), R(L, 1, 2, 3)), r"3-D"),
    ("ranks", "F.linear-1d-weight-ok", lambda L: F(L).linear(R(L, 2, 3), R(L, 3)), None),
    ("ranks", "F.bilinear-0d", lambda L: F(L).bilinear(T(L, 1.0), T(L, 1.0), R(L, 2, 1, 1)), r"0-D"),
    ("dtypes", "F.linear-bias-f64", lambda L: F(L).linear(R(L, 2, 3), R(L, 4, 3), R(L, 4, dtype="float64")),
     r"float64|Double"),
    ("dtypes", "F.linear-bias-int", lambda L: F(L).linear(R(L, 2, 3), R(L, 4, 3), lab(L, [1, 1, 1, 1])),
     r"int64|Long"),
    ("dtypes", "F.bilinear-mixed", lambda L: F(L).bilinear(R(L, 5, 3), R(L, 5, 4, dtype="float64"),
                                                          R(L, 2, 3, 4)), r"float64|double"),
    ("dtypes", "F.linear-int-int", lambda L: F(L).linear(lab(L, [[1, 2, 3]]), lab(L, [[1, 1, 1]])), None),
    ("window sizes", "max_pool1d-ceil", lambda L: F(L).max_pool1d(R(L, 1, 1, 2), 3, ceil_mode=True), r"3"),
    ("window sizes", "avg_pool2d-ceil", lambda L: F(L).avg_pool2d(R(L, 1, 1, 2, 2), 3, ceil_mode=True), r"3"),
    ("window sizes", "max_pool3d-ceil", lambda L: F(L).max_pool3d(R(L, 1, 1, 2, 2, 2), 3, ceil_mode=True),
     r"3"),
    ("window sizes", "lp_pool2d-ceil", lambda L: F(L).lp_pool2d(R(L, 1, 1, 2, 2), 2, 3, ceil_mode=True), r"3"),
    ("window sizes", "MaxPool2d-ceil", lambda L: L.nn.MaxPool2d(3, ceil_mode=True)(R(L, 1, 2, 2)), r"3"),
    ("window sizes", "max_pool2d-dilated", lambda L: F(L).max_pool2d(R(L, 1, 1, 3, 3), 2, dilation=3), r"0x0"),
    ("window sizes", "max_pool1d-big", lambda L: F(L).max_pool1d(R(L, 1, 1, 2), 3), r"\b0\b|small"),
    ("window sizes", "avg_pool3d-big", lambda L: F(L).avg_pool3d(R(L, 1, 1, 2, 2, 2), 3), r"smaller than kernel"),
    ("window sizes", "fractional-big", lambda L: F(L).fractional_max_pool2d(R(L, 1, 1, 2, 2), 3, output_size=1),
     r"too large"),
    ("window sizes", "unfold-big", lambda L: F(L).unfold(R(L, 1, 1, 2, 2), 3), r"kernel_size=\(3, 3\)"),
    ("window sizes", "conv-big", lambda L: F(L).conv1d(R(L, 1, 1, 2), R(L, 1, 1, 3)), r"Kernel size"),
    ("window sizes", "max_pool1d-ceil-padded-ok", lambda L: F(L).max_pool1d(R(L, 1, 1, 2), 3, padding=1,
                                                                            ceil_mode=True), None),
]
for category, name, case, fragment in EXTRA_CASES:
    _add(f"args-{name}", category, case, fragment)


# --------------------------------------------------------------------------
# NaN / inf in hyper-parameters (learning rates belong to the optimizer tests)

def init(L, fn, *args, shape=(3, 4), **kw):
    return getattr(L.nn.init, fn)(L.zeros(*shape), *args, **kw)


NAN_CASES = [
    ("init-uniform-a", lambda L: init(L, "uniform_", a=NAN), r"nan"),
    ("init-uniform-b-inf", lambda L: init(L, "uniform_", b=INF), r"inf"),
    ("init-normal-std", lambda L: init(L, "normal_", std=NAN), r"nan"),
    ("init-normal-mean", lambda L: init(L, "normal_", mean=NAN), r"mean.*nan|nan"),
    ("init-normal-std-inf", lambda L: init(L, "normal_", std=INF), r"inf"),
    ("init-constant-nan", lambda L: init(L, "constant_", NAN), None),
    ("init-constant-str", lambda L: init(L, "constant_", "a"), r"val|str"),
    ("init-kaiming-uniform-a", lambda L: init(L, "kaiming_uniform_", a=NAN), r"nan"),
    ("init-kaiming-normal-a", lambda L: init(L, "kaiming_normal_", a=NAN), r"nan"),
    ("init-kaiming-mode", lambda L: init(L, "kaiming_normal_", mode="bogus"), r"bogus"),
    ("init-kaiming-nonlinearity", lambda L: init(L, "kaiming_normal_", nonlinearity="bogus"), r"bogus"),
    ("init-xavier-gain", lambda L: init(L, "xavier_uniform_", gain=NAN), r"nan"),
    ("init-xavier-normal-gain", lambda L: init(L, "xavier_normal_", gain=INF), r"inf"),
    ("init-xavier-1d", lambda L: init(L, "xavier_uniform_", shape=(3,)), r"fewer than 2|2 dimensions"),
    ("init-trunc-a", lambda L: init(L, "trunc_normal_", a=NAN), r"nan"),
    ("init-trunc-std", lambda L: init(L, "trunc_normal_", std=NAN), r"nan"),
    ("init-trunc-bounds", lambda L: init(L, "trunc_normal_", a=2.0, b=-2.0), r"2"),
    ("init-orthogonal-gain", lambda L: init(L, "orthogonal_", gain=NAN), r"gain|nan"),
    ("init-orthogonal-1d", lambda L: init(L, "orthogonal_", shape=(3,)), r"2 dimensions|2 or more"),
    ("init-sparse-std", lambda L: init(L, "sparse_", 0.5, std=NAN), r"nan"),
    ("init-sparse-sparsity", lambda L: init(L, "sparse_", 1.5), r"sparsity"),
    ("init-sparse-3d", lambda L: init(L, "sparse_", 0.5, shape=(2, 2, 2)), r"2 dimensions|2-D|dimensions"),
    ("init-eye-3d", lambda L: init(L, "eye_", shape=(2, 2, 2)), r"2 dimensions|2-D|dimensions"),
    ("init-dirac-2d", lambda L: init(L, "dirac_", shape=(2, 2)), r"3, 4, 5|dimensions"),
    ("init-gain-param", lambda L: L.nn.init.calculate_gain("leaky_relu", "a"), r"negative_slope|str"),
    ("init-gain-bogus", lambda L: L.nn.init.calculate_gain("bogus"), r"bogus"),
    ("init-not-tensor", lambda L: L.nn.init.uniform_([1.0, 2.0]), r"(?=.*Tensor)(?=.*list)"),
    ("dropout-p-inf", lambda L: F(L).dropout(R(L, 3), p=INF), r"inf"),
    ("BatchNorm2d-eps-nan", lambda L: L.nn.BatchNorm2d(3, eps=NAN), r"eps.*nan"),
    ("BatchNorm2d-momentum-nan", lambda L: L.nn.BatchNorm2d(3, momentum=NAN), r"momentum.*nan"),
    ("F.batch_norm-eps-nan", lambda L: F(L).batch_norm(R(L, 2, 3), L.zeros(3), L.ones(3), eps=NAN), r"eps"),
    ("F.batch_norm-momentum-nan", lambda L: F(L).batch_norm(R(L, 2, 3), L.zeros(3), L.ones(3), training=True,
                                                            momentum=NAN), r"momentum"),
    ("F.layer_norm-eps-nan", lambda L: F(L).layer_norm(R(L, 2, 3), (3,), eps=NAN), r"eps"),
    ("F.group_norm-eps-inf", lambda L: F(L).group_norm(R(L, 2, 4), 2, eps=INF), r"eps"),
    ("F.instance_norm-eps-nan", lambda L: F(L).instance_norm(R(L, 2, 3, 4), eps=NAN), r"eps"),
    ("F.local_response_norm-alpha-nan", lambda L: F(L).local_response_norm(R(L, 1, 2, 3), 2, alpha=NAN),
     r"alpha"),
    ("F.normalize-p-nan", lambda L: F(L).normalize(R(L, 2, 3), p=NAN), r"\bp\b"),
    ("F.normalize-eps-nan", lambda L: F(L).normalize(R(L, 2, 3), eps=NAN), r"eps"),
    ("F.pairwise_distance-p-nan", lambda L: F(L).pairwise_distance(R(L, 2, 3), R(L, 2, 3), p=NAN), r"\bp\b"),
    ("F.pdist-p-nan", lambda L: F(L).pdist(R(L, 3, 2), p=NAN), r"\bp\b"),
    ("F.pdist-p-neg", lambda L: F(L).pdist(R(L, 3, 2), p=-1), r"\bp\b"),
    ("F.cosine_similarity-eps-nan", lambda L: F(L).cosine_similarity(R(L, 2, 3), R(L, 2, 3), eps=NAN), r"eps"),
    ("F.softplus-beta-nan", lambda L: F(L).softplus(R(L, 3), beta=NAN), r"beta"),
    ("F.softplus-threshold-nan", lambda L: F(L).softplus(R(L, 3), threshold=NAN), r"threshold"),
    ("F.elu-alpha-nan", lambda L: F(L).elu(R(L, 3), alpha=NAN), r"alpha"),
    ("F.celu-alpha-zero", lambda L: F(L).celu(R(L, 3), alpha=0.0), r"alpha"),
    ("F.leaky_relu-slope-nan", lambda L: F(L).leaky_relu(R(L, 3), NAN), r"negative_slope"),
    ("F.hardtanh-min-nan", lambda L: F(L).hardtanh(R(L, 3), min_val=NAN), r"min_val"),
    ("F.threshold-nan", lambda L: F(L).threshold(R(L, 3), NAN, 0.0), r"threshold"),
    ("F.softshrink-lambd-nan", lambda L: F(L).softshrink(R(L, 3), NAN), r"lambd"),
    ("F.hardshrink-lambd-nan", lambda L: F(L).hardshrink(R(L, 3), NAN), r"lambd"),
    ("F.rrelu-lower-nan", lambda L: F(L).rrelu(R(L, 3), NAN, 0.3, training=True), r"lower"),
    ("F.gumbel_softmax-tau-zero", lambda L: F(L).gumbel_softmax(R(L, 2, 3), tau=0.0), r"tau"),
    ("F.gumbel_softmax-tau-nan", lambda L: F(L).gumbel_softmax(R(L, 2, 3), tau=NAN), r"tau"),
    ("F.lp_pool1d-norm-nan", lambda L: F(L).lp_pool1d(R(L, 1, 1, 4), NAN, 2), r"norm_type"),
    # torch's own message, kept word for word (tests/plugins/vision/test_vision.py compares it)
    ("F.interpolate-scale-nan", lambda L: F(L).interpolate(R(L, 1, 1, 4), scale_factor=NAN), r"overflow"),
    ("F.interpolate-scale-inf", lambda L: F(L).interpolate(R(L, 1, 1, 4), scale_factor=INF), r"overflow"),
    ("F.embedding-max-norm-nan", lambda L: F(L).embedding(lab(L, [0, 1]), R(L, 3, 2), max_norm=NAN),
     r"max_norm"),
    ("F.smooth_l1-beta-nan", lambda L: F(L).smooth_l1_loss(R(L, 3), R(L, 3) * 2, beta=NAN), r"beta"),
    ("F.huber-delta-nan", lambda L: F(L).huber_loss(R(L, 3), R(L, 3) * 2, delta=NAN), r"delta"),
    ("F.margin_ranking-margin-nan", lambda L: F(L).margin_ranking_loss(R(L, 3), R(L, 3), R(L, 3), margin=NAN),
     r"margin"),
    ("F.hinge-margin-nan", lambda L: F(L).hinge_embedding_loss(R(L, 3), R(L, 3), margin=NAN), r"margin"),
    ("F.cosine_embedding-margin-nan", lambda L: F(L).cosine_embedding_loss(R(L, 2, 3), R(L, 2, 3),
                                                                         T(L, [1.0, -1.0]), margin=NAN),
     r"margin"),
    ("F.triplet-margin-nan", lambda L: F(L).triplet_margin_loss(R(L, 2, 3), R(L, 2, 3), R(L, 2, 3), margin=NAN),
     r"margin"),
    ("F.triplet-p-nan", lambda L: F(L).triplet_margin_loss(R(L, 2, 3), R(L, 2, 3), R(L, 2, 3), p=NAN), r"\bp\b"),
    ("F.triplet-eps-nan", lambda L: F(L).triplet_margin_loss(R(L, 2, 3), R(L, 2, 3), R(L, 2, 3), eps=NAN),
     r"eps"),
    ("F.multi_margin-margin-nan", lambda L: F(L).multi_margin_loss(R(L, 2, 3), lab(L, [0, 1]), margin=NAN),
     r"margin"),
    ("F.poisson-eps-nan", lambda L: F(L).poisson_nll_loss(R(L, 3), R(L, 3), eps=NAN), r"eps"),
    ("F.gaussian-eps-nan", lambda L: F(L).gaussian_nll_loss(R(L, 3), R(L, 3), L.ones(3), eps=NAN), r"eps"),
    ("F.ce-label-smoothing-nan", lambda L: F(L).cross_entropy(R(L, 2, 3), lab(L, [0, 1]), label_smoothing=NAN),
     r"label_smoothing"),
    ("clip-max-norm-str", lambda L: L.nn.utils.clip_grad_norm_([param_with_grad(L)], "a"), r"max_norm.*str"),
    ("clip-max-norm-None", lambda L: L.nn.utils.clip_grad_norm_([param_with_grad(L)], None), r"max_norm.*None"),
    ("clip-max-norm-list", lambda L: L.nn.utils.clip_grad_norm_([param_with_grad(L)], [1.0]), r"max_norm.*list"),
    ("clip-max-norm-nan", lambda L: L.nn.utils.clip_grad_norm_([param_with_grad(L)], NAN), r"max_norm.*nan"),
    ("clip-value-nan", lambda L: L.nn.utils.clip_grad_value_([param_with_grad(L)], NAN), r"clip_value.*nan"),
    ("clip-value-neg", lambda L: L.nn.utils.clip_grad_value_([param_with_grad(L)], -1.0), r"clip_value.*-1"),
    ("clip-value-str", lambda L: L.nn.utils.clip_grad_value_([param_with_grad(L)], "a"), r"clip_value|str"),
]


def param_with_grad(L):
    p = L.nn.Parameter(L.zeros(2))
    p.grad = T(L, [3.0, 4.0])
    return p


for name, case, fragment in NAN_CASES:
    _add(f"nan-{name}", "NaN/inf hyper-parameters", case, fragment)


# --------------------------------------------------------------------------
# indices

def unpool(L, idx, size=(1, 1, 2, 2), **kw):
    return F(L).max_unpool2d(R(L, *size), lab(L, idx), 2, **kw)


INDEX_CASES = [
    ("embedding-oor", lambda L: F(L).embedding(lab(L, [0, 3]), R(L, 3, 2)), r"index|3"),
    ("embedding-neg", lambda L: F(L).embedding(lab(L, [0, -1]), R(L, 3, 2)), r"index|-1"),
    ("embedding-float", lambda L: F(L).embedding(T(L, [0.0, 1.0]), R(L, 3, 2)), r"Long|Int|indices|float"),
    ("embedding-bool", lambda L: F(L).embedding(T(L, [True, False]), R(L, 3, 2)), r"Long|Int|indices|bool"),
    ("embedding-weight-1d", lambda L: F(L).embedding(lab(L, [0]), R(L, 3)), r"2-D|weight"),
    ("embedding-padding-oor", lambda L: F(L).embedding(lab(L, [0]), R(L, 3, 2), padding_idx=5), r"(?i)padding_idx"),
    ("Embedding-module-oor", lambda L: L.nn.Embedding(3, 2)(lab(L, [[0, 3]])), r"index|3"),
    ("embedding_bag-oor", lambda L: F(L).embedding_bag(lab(L, [0, 3]), R(L, 3, 2), lab(L, [0])), r"index|3"),
    ("embedding_bag-offsets-start", lambda L: F(L).embedding_bag(lab(L, [0, 1]), R(L, 3, 2), lab(L, [1])),
     r"offsets"),
    ("embedding_bag-offsets-decreasing", lambda L: F(L).embedding_bag(lab(L, [0, 1, 2]), R(L, 3, 2),
                                                                     lab(L, [0, 2, 1])), r"offsets"),
    ("embedding_bag-offsets-beyond", lambda L: F(L).embedding_bag(lab(L, [0, 1]), R(L, 3, 2), lab(L, [0, 5])),
     r"offsets|5"),
    ("embedding_bag-2d-offsets", lambda L: F(L).embedding_bag(lab(L, [[0, 1]]), R(L, 3, 2), lab(L, [0])),
     r"offsets"),
    ("embedding_bag-psw-max", lambda L: F(L).embedding_bag(lab(L, [0, 1]), R(L, 3, 2), lab(L, [0]), mode="max",
                                                           per_sample_weights=R(L, 2)), r"per_sample_weights"),
    ("embedding_bag-psw-shape", lambda L: F(L).embedding_bag(lab(L, [0, 1]), R(L, 3, 2), lab(L, [0]), mode="sum",
                                                             per_sample_weights=R(L, 3)), r"per_sample_weights"),
    ("unpool-index-oor", lambda L: unpool(L, [[[[0, 1], [2, 16]]]]), r"index|16"),
    ("unpool-index-neg", lambda L: unpool(L, [[[[0, 1], [2, -1]]]]), r"index|-1"),
    ("unpool-index-float", lambda L: F(L).max_unpool2d(R(L, 1, 1, 2, 2), R(L, 1, 1, 2, 2), 2), r"Long|int64|indices"),
    ("unpool-index-shape", lambda L: unpool(L, [[[[0, 1]]]]), r"shape|size|indices"),
    ("unpool-output-size", lambda L: unpool(L, [[[[0, 1], [2, 3]]]], output_size=(9, 9)), r"output_size|9"),
    ("unpool1d-oor", lambda L: F(L).max_unpool1d(R(L, 1, 1, 2), lab(L, [[[0, 4]]]), 2), r"index|4"),
    ("unpool3d-oor", lambda L: F(L).max_unpool3d(R(L, 1, 1, 1, 1, 1), lab(L, [[[[[8]]]]]), 2), r"index|8"),
    ("one_hot-neg", lambda L: F(L).one_hot(lab(L, [0, -1]), 3), r"negative|-1|index"),
    ("one_hot-oor", lambda L: F(L).one_hot(lab(L, [0, 3]), 3), r"[Cc]lass|3"),
    ("one_hot-float", lambda L: F(L).one_hot(T(L, [0.0, 1.0]), 3), r"Long|index tensor|int64"),
    ("one_hot-classes-small", lambda L: F(L).one_hot(lab(L, [0, 4]), 2), r"[Cc]lass|2|4"),
    ("nll-ignore-in-range", lambda L: F(L).nll_loss(R(L, 2, 3), lab(L, [1, 1]), ignore_index=1), None),
    ("nll-target-oor-ignored-other", lambda L: F(L).nll_loss(R(L, 2, 3), lab(L, [5, 1]), ignore_index=1),
     r"[Tt]arget|5"),
    ("ce-2d-target-oor", lambda L: F(L).cross_entropy(R(L, 2, 3, 2), lab(L, [[0, 3], [1, 1]])), r"[Tt]arget|3"),
    ("multilabel_margin-target-oor", lambda L: F(L).multilabel_margin_loss(R(L, 2, 3), lab(L, [[0, 7, -1],
                                                                                         [1, -1, 0]])),
     r"[Tt]arget|7|index"),
    ("adaptive-log-softmax-target-oor", lambda L: det(L, L.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [5]))(
        R(L, 2, 4), lab(L, [0, 10])), r"[Tt]arget|10"),
    ("adaptive-log-softmax-target-neg", lambda L: det(L, L.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [5]))(
        R(L, 2, 4), lab(L, [0, -1])), r"[Tt]arget|-1"),
    ("pack-lengths-zero", lambda L: L.nn.utils.rnn.pack_padded_sequence(R(L, 3, 2, 1), [3, 0]),
     r"[Ll]ength|0"),
    ("pack-lengths-too-long", lambda L: L.nn.utils.rnn.pack_padded_sequence(R(L, 3, 2, 1), [4, 1]),
     r"[Ll]ength|4|3"),
    ("pack-lengths-unsorted", lambda L: L.nn.utils.rnn.pack_padded_sequence(R(L, 3, 2, 1), [1, 3]),
     r"sorted|decreasing|enforce_sorted"),
    ("pack-lengths-count", lambda L: L.nn.utils.rnn.pack_padded_sequence(R(L, 3, 2, 1), [3]),
     r"[Ll]ength|batch|1|2"),
    ("grid_sample-grid-shape", lambda L: F(L).grid_sample(R(L, 1, 1, 3, 3), R(L, 1, 2, 2, 3), align_corners=False),
     r"grid|2"),
    ("affine_grid-theta-shape", lambda L: F(L).affine_grid(R(L, 1, 3, 3), (1, 1, 2, 2), align_corners=False),
     r"theta|2x3|shape"),
    ("affine_grid-size-mismatch", lambda L: F(L).affine_grid(R(L, 2, 2, 3), (1, 1, 2, 2), align_corners=False),
     r"size|batch|theta"),
]
for name, case, fragment in INDEX_CASES:
    _add(f"index-{name}", "indices", case, fragment)


# --------------------------------------------------------------------------
# huge sizes: refused before any allocation

HUGE = 10 ** 12
HUGE_CASES = [
    ("Linear", lambda L: L.nn.Linear(HUGE, HUGE), r"10{12}|bytes|size"),
    ("Linear-moderate", lambda L: L.nn.Linear(10 ** 6, 10 ** 6), r"bytes|memory|allocate"),
    ("Bilinear", lambda L: L.nn.Bilinear(10 ** 5, 10 ** 5, 10 ** 5), r"bytes|memory|allocate"),
    ("Embedding", lambda L: L.nn.Embedding(HUGE, 3), r"bytes|memory|allocate|size"),
    ("Conv2d", lambda L: L.nn.Conv2d(10 ** 5, 10 ** 5, 10), r"bytes|memory|allocate"),
    ("BatchNorm1d", lambda L: L.nn.BatchNorm1d(HUGE), r"bytes|memory|allocate|size"),
    ("LSTM", lambda L: L.nn.LSTM(10 ** 6, 10 ** 6), r"bytes|memory|allocate"),
    ("zeros", lambda L: L.zeros(HUGE, HUGE), r"bytes|memory|allocate|size"),
    ("empty", lambda L: L.empty(10 ** 6, 10 ** 6), r"bytes|memory|allocate"),
    ("upsample", lambda L: F(L).interpolate(R(L, 1, 1, 2), scale_factor=1e12), r"bytes|memory|allocate|size"),
    ("pad", lambda L: F(L).pad(R(L, 1, 2), (HUGE, 0)), r"bytes|memory|allocate|size"),
    ("one_hot", lambda L: F(L).one_hot(lab(L, [1]), HUGE), r"bytes|memory|allocate|size"),
]
for name, case, fragment in HUGE_CASES:
    _add(f"huge-{name}", "huge sizes", case, fragment)


# --------------------------------------------------------------------------
# recurrent hidden states: type, rank, size, dtype

def rnn_run(L, kind, hx, x_shape=(5, 2, 3), **kw):
    m = det(L, getattr(L.nn, kind)(3, 4, **kw))
    out = m(R(L, *x_shape), hx)
    return out[0]


HIDDEN_CASES = [
    ("LSTM-tensor", lambda L: rnn_run(L, "LSTM", L.zeros(1, 2, 4)), r"(?=.*tuple)(?=.*Tensor)"),
    ("LSTM-1-tuple", lambda L: rnn_run(L, "LSTM", (L.zeros(1, 2, 4),)), r"(?=.*\btwo\b)(?=.*\b1$)"),
    ("LSTM-3-tuple", lambda L: rnn_run(L, "LSTM", (L.zeros(1, 2, 4),) * 3), r"(?=.*\btwo\b)(?=.*\b3$)"),
    ("LSTM-list", lambda L: rnn_run(L, "LSTM", [L.zeros(1, 2, 4), L.zeros(1, 2, 4)]), None),
    ("LSTM-None-in-tuple", lambda L: rnn_run(L, "LSTM", (None, L.zeros(1, 2, 4))), r"NoneType"),
    ("LSTM-ndarray", lambda L: rnn_run(L, "LSTM", (np.zeros((1, 2, 4), np.float32),) * 2), r"ndarray"),
    ("LSTM-dtype", lambda L: rnn_run(L, "LSTM", (L.zeros(1, 2, 4, dtype=L.float64), L.zeros(1, 2, 4))),
     r"(?=.*(float64|Double))(?=.*(float32|Float))"),
    ("LSTM-int-hidden", lambda L: rnn_run(L, "LSTM", (L.zeros(1, 2, 4, dtype=L.int64),) * 2),
     r"(int64|Long)"),
    ("LSTM-h-size", lambda L: rnn_run(L, "LSTM", (L.zeros(1, 2, 5), L.zeros(1, 2, 4))), r"hidden\[0\]|5"),
    ("LSTM-c-size", lambda L: rnn_run(L, "LSTM", (L.zeros(1, 2, 4), L.zeros(1, 3, 4))), r"hidden\[1\]|3"),
    ("LSTM-h-rank", lambda L: rnn_run(L, "LSTM", (L.zeros(2, 4), L.zeros(2, 4))), r"2-D|3-D"),
    ("GRU-tuple", lambda L: rnn_run(L, "GRU", (L.zeros(1, 2, 4),)), r"(?=.*Tensor)(?=.*tuple)"),
    ("GRU-list", lambda L: rnn_run(L, "GRU", [L.zeros(1, 2, 4)]), r"(?=.*Tensor)(?=.*list)"),
    ("GRU-ndarray", lambda L: rnn_run(L, "GRU", np.zeros((1, 2, 4), np.float32)), r"(?=.*Tensor)(?=.*ndarray)"),
    ("GRU-float", lambda L: rnn_run(L, "GRU", 0.0), r"(?=.*Tensor)(?=.*float)"),
    ("GRU-dtype", lambda L: rnn_run(L, "GRU", L.zeros(1, 2, 4, dtype=L.float64)),
     r"(?=.*(float64|Double))(?=.*(float32|Float))"),
    ("RNN-size", lambda L: rnn_run(L, "RNN", L.zeros(2, 2, 4)), r"\(1, 2, 4\)|2, 2, 4"),
    ("RNN-noncontig-hidden", lambda L: rnn_run(L, "RNN", L.zeros(1, 4, 2).transpose(1, 2)), None),
    ("RNN-seq0", lambda L: rnn_run(L, "RNN", None, x_shape=(0, 2, 3)), r"sequence length|0"),
    ("LSTM-seq0", lambda L: rnn_run(L, "LSTM", None, x_shape=(0, 2, 3)), r"sequence length|0"),
    ("GRU-seq0-batch-first", lambda L: rnn_run(L, "GRU", None, x_shape=(2, 0, 3), batch_first=True),
     r"sequence length|0"),
    ("RNN-seq0-unbatched", lambda L: rnn_run(L, "RNN", None, x_shape=(0, 3)), r"sequence length|0"),
    ("RNN-batch0", lambda L: rnn_run(L, "RNN", None, x_shape=(5, 0, 3)), None),
    ("LSTMCell-tensor", lambda L: det(L, L.nn.LSTMCell(3, 4))(R(L, 2, 3), L.zeros(2, 4)),
     r"(?=.*tuple)(?=.*Tensor)"),
    ("LSTMCell-1-tuple", lambda L: det(L, L.nn.LSTMCell(3, 4))(R(L, 2, 3), (L.zeros(2, 4),)),
     r"(?=.*\btwo\b)(?=.*\b1$)"),
    ("LSTMCell-list", lambda L: det(L, L.nn.LSTMCell(3, 4))(R(L, 2, 3), [L.zeros(2, 4), L.zeros(2, 4)]), None),
    ("LSTMCell-dtype", lambda L: det(L, L.nn.LSTMCell(3, 4))(R(L, 2, 3), (L.zeros(2, 4, dtype=L.float64),
                                                                       L.zeros(2, 4))),
     r"(?=.*(float64|Double))(?=.*(float32|Float))"),
    ("LSTMCell-size", lambda L: det(L, L.nn.LSTMCell(3, 4))(R(L, 2, 3), (L.zeros(2, 5), L.zeros(2, 4))),
     r"5|hidden"),
    ("GRUCell-tuple", lambda L: det(L, L.nn.GRUCell(3, 4))(R(L, 2, 3), (L.zeros(2, 4),)),
     r"(?=.*Tensor)(?=.*tuple)"),
    ("RNNCell-list", lambda L: det(L, L.nn.RNNCell(3, 4))(R(L, 2, 3), [[0.0] * 4] * 2),
     r"(?=.*Tensor)(?=.*list)"),
    ("RNNCell-dtype", lambda L: det(L, L.nn.RNNCell(3, 4))(R(L, 2, 3), L.zeros(2, 4, dtype=L.float64)),
     r"(?=.*(float64|Double))(?=.*(float32|Float))"),
    ("RNNCell-batch0", lambda L: det(L, L.nn.RNNCell(3, 4))(E0(L, 0, 3)), None),
    ("packed-LSTM-tensor", lambda L: det(L, L.nn.LSTM(3, 4))(L.nn.utils.rnn.pack_padded_sequence(
        R(L, 5, 2, 3), [5, 3]), L.zeros(1, 2, 4))[0].data, r"(?=.*tuple)(?=.*Tensor)"),
]
for name, case, fragment in HIDDEN_CASES:
    _add(f"hidden-{name}", "recurrent hidden states", case, fragment)


# --------------------------------------------------------------------------
# devices and dtypes given to Module.to

DEVICE_CASES = [
    ("cpu-x", lambda L: linear_module(L).to("cpu:x"), r"cpu:x"),
    ("gpu", lambda L: linear_module(L).to("gpu"), r"gpu"),
    ("cuda-neg", lambda L: linear_module(L).to("cuda:-1"), r"cuda:-1"),
    ("cpu-neg", lambda L: linear_module(L).to("cpu:-1"), r"cpu:-1"),
    ("empty-str", lambda L: linear_module(L).to(""), r"''|empty|device"),
    ("two-colons", lambda L: linear_module(L).to("cpu:0:1"), r"cpu:0:1"),
    ("spaces", lambda L: linear_module(L).to(" cpu"), r"' cpu'"),
    ("upper", lambda L: linear_module(L).to("CPU"), r"CPU"),
    ("int-neg", lambda L: linear_module(L).to(-1), r"-1"),
    ("float", lambda L: linear_module(L).to(1.5), r"1\.5|float"),
    ("list", lambda L: linear_module(L).to([0]), r"list"),
    ("dtype-str", lambda L: linear_module(L).to("float32"), r"float32"),
    ("int-dtype", lambda L: linear_module(L).to(L.int64), r"floating|int64|Long"),
    ("bool-dtype", lambda L: linear_module(L).to(L.bool), r"floating|bool|Bool"),
    ("tensor-int", lambda L: linear_module(L).to(L.zeros(1, dtype=L.int64)), r"floating|int64|Long"),
    ("too-many", lambda L: linear_module(L).to("cpu", L.float64, True, 4), r"arguments|4|to\(\)"),
    ("unknown-kw", lambda L: linear_module(L).to(devic="cpu"), r"devic"),
    ("cpu-ok", lambda L: linear_module(L).to("cpu").weight, None),
    ("cpu0-ok", lambda L: linear_module(L).to("cpu:0").weight, None),
    ("double-ok", lambda L: linear_module(L).to(L.float64).weight, None),
    ("device-obj-ok", lambda L: linear_module(L).to(L.device("cpu"), dtype=L.float64).weight, None),
    ("Module.cuda-neg", lambda L: linear_module(L).cuda(-1), r"-1"),
    ("Module.type-bogus", lambda L: linear_module(L).type("bogus"), r"bogus"),
    ("tensor.to-bad", lambda L: R(L, 2).to("gpu:0"), r"gpu"),
    ("device-ctor-bad", lambda L: L.device("cpu:x"), r"cpu:x"),
    ("Linear-device-bad", lambda L: L.nn.Linear(2, 2, device="gpu"), r"gpu"),
    ("Linear-dtype-int", lambda L: L.nn.Linear(2, 2, dtype=L.int64), r"floating|int64|Long"),
]


def linear_module(L):
    return det(L, L.nn.Linear(3, 2))


for name, case, fragment in DEVICE_CASES:
    _add(f"device-{name}", "devices", case, fragment)


# --------------------------------------------------------------------------
# nn.utils: weight_norm, spectral_norm, parameter vectors

UTIL_CASES = [
    ("weight_norm-dim-oor", lambda L: L.nn.utils.weight_norm(L.nn.Linear(3, 2), dim=5), r"5"),
    ("weight_norm-dim-neg-oor", lambda L: L.nn.utils.weight_norm(L.nn.Linear(3, 2), dim=-3), r"-3"),
    ("weight_norm-dim-neg-ok", lambda L: L.nn.utils.weight_norm(det(L, L.nn.Linear(3, 2)), dim=-1).weight_g, None),
    ("weight_norm-dim-None", lambda L: L.nn.utils.weight_norm(det(L, L.nn.Linear(3, 2)), dim=None).weight_g,
     None),
    ("weight_norm-dim-float", lambda L: L.nn.utils.weight_norm(L.nn.Linear(3, 2), dim=1.0), r"dim|float"),
    ("weight_norm-name", lambda L: L.nn.utils.weight_norm(L.nn.Linear(3, 2), name="bogus"), r"bogus"),
    ("weight_norm-twice", lambda L: L.nn.utils.weight_norm(L.nn.utils.weight_norm(L.nn.Linear(3, 2))),
     r"weight"),
    ("weight_norm-not-module", lambda L: L.nn.utils.weight_norm(L.zeros(2)), r"Module|Tensor|weight"),
    ("remove_weight_norm-none", lambda L: L.nn.utils.remove_weight_norm(L.nn.Linear(3, 2)), r"weight_norm"),
    ("spectral_norm-dim-oor", lambda L: L.nn.utils.spectral_norm(L.nn.Linear(3, 2), dim=5), r"5"),
    ("spectral_norm-iters-zero", lambda L: L.nn.utils.spectral_norm(L.nn.Linear(3, 2), n_power_iterations=0),
     r"n_power_iterations|0"),
    ("spectral_norm-eps-nan", lambda L: L.nn.utils.spectral_norm(L.nn.Linear(3, 2), eps=NAN), r"eps"),
    ("spectral_norm-name", lambda L: L.nn.utils.spectral_norm(L.nn.Linear(3, 2), name="bogus"), r"bogus"),
    ("remove_spectral_norm-none", lambda L: L.nn.utils.remove_spectral_norm(L.nn.Linear(3, 2)),
     r"spectral_norm"),
    ("p2v-not-tensor", lambda L: L.nn.utils.parameters_to_vector([[1.0, 2.0]]), r"list|Tensor"),
    ("v2p-2d", lambda L: L.nn.utils.vector_to_parameters(L.zeros(2, 2), [L.zeros(4)]), r"1-D|2-D|vector|dim"),
]
for name, case, fragment in UTIL_CASES:
    _add(f"utils-{name}", "nn utils", case, fragment)


# --------------------------------------------------------------------------
# deliberate differences from torch: name pattern -> why ember differs

DELIBERATE = {
    # --- types: torch's Python layers touch ``input.dim()`` (or the like) before any
    # check and fail with AttributeError; ember names the argument that wanted a Tensor
    "type-*": "a list, ndarray or None as input: TypeError naming the argument and the type "
              "(torch: AttributeError from its Python code; Dropout in eval mode returns it)",
    "hidden-*-tensor": "LSTM state not a tuple: TypeError saying a tuple (h_0, c_0) was expected "
                       "(torch: IndexError from indexing the tensor)",
    "hidden-LSTM-1-tuple": "a 1-tuple as LSTM state: RuntimeError as for a 3-tuple (torch: IndexError)",
    "hidden-*-None-in-tuple": "TypeError naming the state (torch: AttributeError)",
    "hidden-*-ndarray": "TypeError naming the state (torch: AttributeError)",
    "hidden-GRU*-tuple": "TypeError naming the state (torch: AttributeError)",
    "hidden-GRU-list": "TypeError naming the state (torch: AttributeError)",
    "hidden-RNNCell-list": "TypeError naming the state (torch: AttributeError)",
    "hidden-GRU-float": "TypeError naming the state (torch: AttributeError)",
    "nan-init-not-tensor": "TypeError naming the argument (torch: AttributeError)",
    "utils-weight_norm-not-module": "TypeError naming the argument (torch: AttributeError)",
    "utils-p2v-not-tensor": "TypeError naming the argument (torch: AttributeError)",
    "rank-few-Unfold": "RuntimeError naming the shape, as for every other bad rank (torch: IndexError "
                       "from its Python code for 2-D input)",
    # --- constructor arguments torch takes and fails on at the first forward (or never)
    "ctor-Conv2d-kernel-zero": "a zero kernel: refused at construction",
    "ctor-Conv2d-kernel-3tuple": "a 3-entry kernel for Conv2d: refused (torch builds a 5-D weight)",
    "ctor-Conv2d-stride-*": "stride < 1: refused at construction",
    "ctor-Conv2d-padding-neg": "negative padding: refused at construction",
    "ctor-Conv2d-dilation-zero": "dilation < 1: refused at construction",
    "ctor-Linear-bool": "a bool as a size: refused (torch reads True as 1)",
    "ctor-BatchNorm2d-momentum-str": "a momentum that is not a number: refused at construction",
    "ctor-Embedding-max-norm-neg": "a negative max_norm: refused (torch rescales rows to it)",
    "ctor-EmbeddingBag-mode": "an unknown mode: refused at construction (torch: at the first forward)",
    "ctor-RNN-bidirectional-str": "bidirectional must be a bool (torch takes any truthy value)",
    "ctor-RNNCell-nonlinearity": "an unknown nonlinearity: refused at construction (torch: at forward)",
    "ctor-Dropout-p-bool": "a bool as a probability: refused",
    "ctor-RReLU-bounds": "lower > upper: refused at construction (torch: at the first training step)",
    "ctor-PReLU-zero": "zero parameters: refused at construction (torch: at the first forward)",
    # --- NaN/inf (and other nonsense) in hyper-parameters that torch takes silently
    "nan-init-normal-mean": "a NaN mean fills the tensor with NaN",
    "nan-init-normal-std-inf": "an infinite std fills the tensor with infinities",
    "nan-init-xavier-normal-gain": "an infinite gain fills the tensor with infinities",
    "nan-init-trunc-std": "a NaN std fills the tensor with NaN",
    "nan-init-orthogonal-gain": "a NaN gain fills the tensor with NaN",
    "nan-init-sparse-sparsity": "sparsity outside [0, 1]",
    "nan-BatchNorm2d-*": "NaN eps/momentum turn every statistic into NaN",
    "nan-F.batch_norm-*": "NaN eps/momentum turn every statistic into NaN",
    "nan-F.layer_norm-eps-nan": "NaN eps", "nan-F.group_norm-eps-inf": "infinite eps",
    "nan-F.instance_norm-eps-nan": "NaN eps", "nan-F.local_response_norm-alpha-nan": "NaN alpha",
    "nan-F.normalize-*": "NaN p or eps", "nan-F.pairwise_distance-p-nan": "NaN p",
    "nan-F.softplus-*": "NaN beta or threshold", "nan-F.elu-alpha-nan": "NaN alpha",
    "nan-F.leaky_relu-slope-nan": "NaN negative_slope", "nan-F.hardtanh-min-nan": "NaN bound",
    "nan-F.threshold-nan": "NaN threshold", "nan-F.hardshrink-lambd-nan": "NaN lambd",
    "nan-F.gumbel_softmax-*": "tau must be a positive number (0 gives NaN samples)",
    "nan-F.lp_pool1d-norm-nan": "NaN norm_type",
    "nan-F.margin_ranking-margin-nan": "NaN margin", "nan-F.hinge-margin-nan": "NaN margin",
    "nan-F.cosine_embedding-margin-nan": "NaN margin", "nan-F.multi_margin-margin-nan": "NaN margin",
    "nan-F.triplet-*": "NaN margin, p or eps", "nan-F.poisson-eps-nan": "NaN eps",
    "nan-F.gaussian-eps-nan": "NaN eps", "nan-F.ce-label-smoothing-nan": "NaN label_smoothing",
    "nan-clip-max-norm-nan": "a NaN max_norm makes every gradient NaN",
    "nan-clip-value-nan": "a NaN clip_value makes every gradient NaN",
    "nan-clip-value-neg": "a negative clip_value sets every gradient to -clip_value",
    "nan-F.embedding-max-norm-nan": "a NaN max_norm turns every row looked up into NaN",
    "utils-spectral_norm-eps-nan": "NaN eps",
    # --- indices and values torch reads without checking
    "index-pack-lengths-too-long": "a length beyond the padded sequence: refused (torch packs garbage)",
    # --- empty inputs
    "empty-channels-BatchNorm*": "zero channels against 3 running statistics: refused (torch returns "
                                 "an empty tensor)",
    "device-float": "a float as a device: TypeError naming it (torch takes 1.5 silently)",
}

# Cases where torch raises for a valid input and ember answers: name -> why.
EMBER_ANSWERS = {
    "empty-batch-InstanceNorm1d": "an empty batch gives an empty result (torch: IndexError from its "
                                  "affine path), as batch_norm does for torch too",
    "empty-batch-InstanceNorm2d": "as empty-batch-InstanceNorm1d",
}

# Cases where torch answers wrongly: name -> (why, what ember must return).
TORCH_WRONG = {
    "empty-batch-PixelUnshuffle": ("torch returns an empty input unchanged; its shape must still be "
                                   "unshuffled", lambda L: L.zeros(0, 8, 2, 2)),
    "empty-last-PixelUnshuffle": ("as empty-batch-PixelUnshuffle", lambda L: L.zeros(2, 8, 2, 0)),
}



# --------------------------------------------------------------------------
# types: every functional given a list, an ndarray or None where its tensor goes
# name -> (call taking the library and the input, a valid input shape)

def _f(name, *args, **kw):
    return lambda L, x: getattr(F(L), name)(x, *args, **kw)


def _fw(name, wshape, *args, **kw):
    """A functional whose second argument is a weight of ``wshape``."""
    return lambda L, x: getattr(F(L), name)(x, R(L, *wshape), *args, **kw)


def _loss(name, target=None, **kw):
    return lambda L, x: getattr(F(L), name)(x, target(L) if target else R(L, 2, 3), **kw)


FUNCTIONALS = {
    "linear": (_fw("linear", (2, 3)), (4, 3)),
    "bilinear": (lambda L, x: F(L).bilinear(x, R(L, 4, 2), R(L, 5, 3, 2)), (4, 3)),
    "conv1d": (_fw("conv1d", (3, 2, 2)), (1, 2, 5)),
    "conv2d": (_fw("conv2d", (3, 2, 2, 2)), (1, 2, 4, 4)),
    "conv3d": (_fw("conv3d", (3, 2, 2, 2, 2)), (1, 2, 3, 3, 3)),
    "conv_transpose1d": (_fw("conv_transpose1d", (2, 3, 2)), (1, 2, 5)),
    "conv_transpose2d": (_fw("conv_transpose2d", (2, 3, 2, 2)), (1, 2, 4, 4)),
    "conv_transpose3d": (_fw("conv_transpose3d", (2, 3, 2, 2, 2)), (1, 2, 3, 3, 3)),
    "unfold": (_f("unfold", 2), (1, 2, 4, 4)),
    "fold": (_f("fold", (3, 3), 2), (1, 8, 4)),
    "max_pool1d": (_f("max_pool1d", 2), (1, 2, 4)),
    "max_pool2d": (_f("max_pool2d", 2), (1, 2, 4, 4)),
    "max_pool3d": (_f("max_pool3d", 2), (1, 1, 2, 2, 2)),
    "max_pool2d_with_indices": (_f("max_pool2d_with_indices", 2), (1, 2, 4, 4)),
    "avg_pool1d": (_f("avg_pool1d", 2), (1, 2, 4)),
    "avg_pool2d": (_f("avg_pool2d", 2), (1, 2, 4, 4)),
    "avg_pool3d": (_f("avg_pool3d", 2), (1, 1, 2, 2, 2)),
    "lp_pool1d": (_f("lp_pool1d", 2, 2), (1, 2, 4)),
    "lp_pool2d": (_f("lp_pool2d", 2, 2), (1, 2, 4, 4)),
    "lp_pool3d": (_f("lp_pool3d", 2, 2), (1, 1, 2, 2, 2)),
    "adaptive_avg_pool1d": (_f("adaptive_avg_pool1d", 2), (1, 2, 4)),
    "adaptive_avg_pool2d": (_f("adaptive_avg_pool2d", 2), (1, 2, 4, 4)),
    "adaptive_avg_pool3d": (_f("adaptive_avg_pool3d", 2), (1, 1, 2, 2, 2)),
    "adaptive_max_pool1d": (_f("adaptive_max_pool1d", 2), (1, 2, 4)),
    "adaptive_max_pool2d": (_f("adaptive_max_pool2d", 2), (1, 2, 4, 4)),
    "adaptive_max_pool3d": (_f("adaptive_max_pool3d", 2), (1, 1, 2, 2, 2)),
    "fractional_max_pool2d": (_f("fractional_max_pool2d", 2, output_size=2), (1, 2, 5, 5)),
    "fractional_max_pool3d": (_f("fractional_max_pool3d", 2, output_size=2), (1, 1, 5, 5, 5)),
    "max_unpool1d": (lambda L, x: F(L).max_unpool1d(x, lab(L, [[[0, 3]]]), 2), (1, 1, 2)),
    "max_unpool2d": (lambda L, x: F(L).max_unpool2d(x, lab(L, [[[[0, 3]]]]), 2), (1, 1, 1, 2)),
    "pad": (_f("pad", (1, 1)), (1, 2, 4)),
    "pad-reflect": (_f("pad", (1, 1), mode="reflect"), (1, 2, 4)),
    "batch_norm": (lambda L, x: F(L).batch_norm(x, L.zeros(3), L.ones(3)), (2, 3)),
    "instance_norm": (_f("instance_norm"), (2, 3, 4)),
    "layer_norm": (_f("layer_norm", (3,)), (2, 3)),
    "group_norm": (_f("group_norm", 2), (2, 4, 3)),
    "local_response_norm": (_f("local_response_norm", 2), (1, 2, 3)),
    "normalize": (_f("normalize"), (2, 3)),
    "relu": (_f("relu"), (2, 3)), "relu_": (_f("relu_"), (2, 3)), "relu6": (_f("relu6"), (2, 3)),
    "elu": (_f("elu"), (2, 3)), "elu_": (_f("elu_"), (2, 3)), "selu": (_f("selu"), (2, 3)),
    "celu": (_f("celu"), (2, 3)), "gelu": (_f("gelu"), (2, 3)), "silu": (_f("silu"), (2, 3)),
    "mish": (_f("mish"), (2, 3)), "hardswish": (_f("hardswish"), (2, 3)),
    "hardsigmoid": (_f("hardsigmoid"), (2, 3)), "leaky_relu": (_f("leaky_relu"), (2, 3)),
    "hardtanh": (_f("hardtanh"), (2, 3)), "sigmoid": (_f("sigmoid"), (2, 3)), "tanh": (_f("tanh"), (2, 3)),
    "logsigmoid": (_f("logsigmoid"), (2, 3)), "softplus": (_f("softplus"), (2, 3)),
    "softsign": (_f("softsign"), (2, 3)), "tanhshrink": (_f("tanhshrink"), (2, 3)),
    "hardshrink": (_f("hardshrink"), (2, 3)), "softshrink": (_f("softshrink"), (2, 3)),
    "threshold": (_f("threshold", 0.1, 0.0), (2, 3)), "rrelu": (_f("rrelu"), (2, 3)),
    "glu": (_f("glu"), (2, 4)), "prelu": (_fw("prelu", (1,)), (2, 3)),
    "softmax": (_f("softmax", 1), (2, 3)), "softmin": (_f("softmin", 1), (2, 3)),
    "log_softmax": (_f("log_softmax", 1), (2, 3)), "gumbel_softmax": (_f("gumbel_softmax"), (2, 3)),
    # p = 0 while training: the checks run, the result is deterministic
    "dropout": (_f("dropout", 0.0), (2, 3)), "dropout-eval": (_f("dropout", training=False), (2, 3)),
    "alpha_dropout": (_f("alpha_dropout", 0.0, True), (2, 3)),
    "feature_alpha_dropout": (_f("feature_alpha_dropout", 0.0, True), (2, 3, 4)),
    "dropout2d": (_f("dropout2d", 0.0), (2, 3, 4, 4)), "dropout3d": (_f("dropout3d", 0.0), (2, 3, 2, 2, 2)),
    "embedding": (lambda L, x: F(L).embedding(x, R(L, 10, 3)), None),
    "embedding-weight": (lambda L, x: F(L).embedding(lab(L, [0, 1]), x), (10, 3)),
    "embedding_bag": (lambda L, x: F(L).embedding_bag(x, R(L, 10, 3), lab(L, [0])), None),
    "one_hot": (_f("one_hot", 10), None),
    "cosine_similarity": (lambda L, x: F(L).cosine_similarity(x, R(L, 2, 3)), (2, 3)),
    "pairwise_distance": (lambda L, x: F(L).pairwise_distance(x, R(L, 2, 3)), (2, 3)),
    "pdist": (_f("pdist"), (3, 2)),
    "pixel_shuffle": (_f("pixel_shuffle", 2), (1, 4, 2, 2)),
    "pixel_unshuffle": (_f("pixel_unshuffle", 2), (1, 1, 4, 4)),
    "interpolate": (_f("interpolate", scale_factor=2), (1, 2, 4)),
    "upsample": (_f("upsample", scale_factor=2), (1, 2, 4)),
    "upsample_nearest": (_f("upsample_nearest", scale_factor=2), (1, 2, 4, 4)),
    "upsample_bilinear": (_f("upsample_bilinear", scale_factor=2), (1, 2, 4, 4)),
    "grid_sample": (lambda L, x: F(L).grid_sample(x, R(L, 1, 2, 2, 2), align_corners=False), (1, 1, 3, 3)),
    "grid_sample-grid": (lambda L, x: F(L).grid_sample(R(L, 1, 1, 3, 3), x, align_corners=False), (1, 2, 2, 2)),
    "affine_grid": (lambda L, x: F(L).affine_grid(x, (1, 1, 2, 2), align_corners=False), (1, 2, 3)),
    "mse_loss": (_loss("mse_loss"), (2, 3)), "l1_loss": (_loss("l1_loss"), (2, 3)),
    "mse_loss-target": (lambda L, x: F(L).mse_loss(R(L, 2, 3), x), (2, 3)),
    "smooth_l1_loss": (_loss("smooth_l1_loss"), (2, 3)), "huber_loss": (_loss("huber_loss"), (2, 3)),
    "soft_margin_loss": (_loss("soft_margin_loss"), (2, 3)),
    "binary_cross_entropy": (lambda L, x: F(L).binary_cross_entropy(x, R(L, 2, 3).sigmoid()),
                             lambda L: R(L, 2, 3).sigmoid()),
    "binary_cross_entropy_with_logits": (_loss("binary_cross_entropy_with_logits"), (2, 3)),
    "kl_div": (_loss("kl_div"), (2, 3)), "poisson_nll_loss": (_loss("poisson_nll_loss"), (2, 3)),
    "gaussian_nll_loss": (lambda L, x: F(L).gaussian_nll_loss(x, R(L, 2, 3), L.ones(2, 3)), (2, 3)),
    "hinge_embedding_loss": (_loss("hinge_embedding_loss"), (2, 3)),
    "multilabel_soft_margin_loss": (_loss("multilabel_soft_margin_loss"), (2, 3)),
    "cross_entropy": (_loss("cross_entropy", lambda L: lab(L, [0, 1])), (2, 3)),
    "cross_entropy-target": (lambda L, x: F(L).cross_entropy(R(L, 2, 3), x), None),
    "nll_loss": (_loss("nll_loss", lambda L: lab(L, [0, 1])), (2, 3)),
    "multi_margin_loss": (_loss("multi_margin_loss", lambda L: lab(L, [0, 1])), (2, 3)),
    "multilabel_margin_loss": (_loss("multilabel_margin_loss", lambda L: lab(L, [[0, -1, 0], [1, 2, -1]])),
                               (2, 3)),
    "margin_ranking_loss": (lambda L, x: F(L).margin_ranking_loss(x, R(L, 3), R(L, 3)), (3,)),
    "cosine_embedding_loss": (lambda L, x: F(L).cosine_embedding_loss(x, R(L, 2, 3), T(L, [1.0, -1.0])), (2, 3)),
    "triplet_margin_loss": (lambda L, x: F(L).triplet_margin_loss(x, R(L, 2, 3), R(L, 2, 3)), (2, 3)),
    "triplet_margin_with_distance_loss": (
        lambda L, x: F(L).triplet_margin_with_distance_loss(x, R(L, 2, 3), R(L, 2, 3)), (2, 3)),
    "ctc_loss": (lambda L, x: F(L).ctc_loss(x, lab(L, [[1], [2]]), (5, 5), (1, 1)), (5, 2, 4)),
}


RANDOM_FUNCTIONALS = {"gumbel_softmax"}


def _functional_input(L, shape):
    """Indices for ``None``, the values of a callable, else deterministic floats."""
    if shape is None:
        return lab(L, [1, 2])
    return shape(L) if callable(shape) else R(L, *shape)


for fname, (call, shape) in FUNCTIONALS.items():
    if fname not in RANDOM_FUNCTIONALS:   # the valid call first: it must give torch's answer
        _add(f"F-ok-{fname}", "types", (lambda c, s: lambda L: c(L, _functional_input(L, s)))(call, shape),
             None)
    for kind, make_bad in (("list", lambda x: x.tolist()), ("ndarray", lambda x: x.numpy()),
                           ("None", lambda x: None)):
        _add(f"type-{kind}-F.{fname}", "types", (lambda c, s, m: lambda L: c(L, m(_functional_input(L, s))))(
            call, shape, make_bad), TYPE_NAMES)


# --------------------------------------------------------------------------
# the tests

def _deliberate(name):
    """The reason ember differs from torch on case ``name``, and whether the entry
    names the case exactly (exact entries must still differ from torch)."""
    return next(((why, pattern == name) for pattern, why in DELIBERATE.items()
                 if fnmatch.fnmatchcase(name, pattern)), (None, False))


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_layer_input(name):
    category, case, fragment = CASES[name]
    got = outcome(lambda: case(ember), quiet=True)
    if name in TORCH_WRONG:
        assert got.error is None, str(got)
        assert_same(got.value, TORCH_WRONG[name][1](torch), "result", TOL)
        return
    want = outcome(lambda: case(torch), quiet=True)
    why, exact = _deliberate(name)
    if name in EMBER_ANSWERS:
        assert got.error is None and want.error is not None, (str(got), str(want))
        return
    if got.error is None:
        assert why is None, f"ember accepted a case listed as a deliberate difference ({why})"
        assert want.error is None, f"ember accepted what torch refuses: {want.error!r}"
        assert_same(got.value, want.value, "result", TOL)
        return
    exc = got.error
    assert fragment is not None, f"ember raised {exc!r}, torch {want}"
    assert re.search(fragment, str(exc)), f"{category}: message {str(exc)!r} lacks {fragment!r}"
    assert not isinstance(exc, (AttributeError, AssertionError, KeyError)) or (
        isinstance(exc, type(want.error))), f"{type(exc).__name__} is no answer"
    if why is None:
        assert want.error is not None, f"ember raised {exc!r} where torch accepts (list it in DELIBERATE?)"
        assert isinstance(exc, type(want.error)), (
            f"ember raised {type(exc).__name__}, torch {type(want.error).__name__}: {want.error}")
    elif exact:
        assert want.error is None or not isinstance(exc, type(want.error)), (
            f"listed as deliberate ({why}) but ember now agrees with torch")


def test_sweep_covers_every_category():
    counts = {}
    for category, _, _ in CASES.values():
        counts[category] = counts.get(category, 0) + 1
    assert set(counts) == {"ranks", "dtypes", "channels", "empty", "types", "layouts",
                           "constructor arguments", "NaN/inf hyper-parameters", "indices", "huge sizes",
                           "recurrent hidden states", "devices", "nn utils", "window sizes"}, counts


# --------------------------------------------------------------------------
# torch's own error inputs (OpInfo error_inputs of the nn.functional ops, ModuleInfo
# error inputs of the modules): where torch raises, ember raises the same type

def _torch_error_cases():
    from tests.conformance.test_torch_samples import FUNCTIONALS, MODULES, module_db, op_db

    cases = []
    for name, variant in FUNCTIONALS:
        op = next(o for o in op_db if o.name == "nn.functional." + name and o.variant_test_name == variant)
        if op.error_inputs_func is not None:
            cases.append(("functional", name, variant))
    for name in MODULES:
        info = next(i for i in module_db if i.module_cls.__name__ == name)
        if info.module_error_inputs_func is not None:
            cases.append(("module", name, ""))
    return cases


def _has_complex(x):
    if isinstance(x, torch.Tensor):
        return x.is_complex()
    if isinstance(x, (list, tuple)):
        return any(_has_complex(v) for v in x)
    if isinstance(x, dict):
        return any(_has_complex(v) for v in x.values())
    return isinstance(x, complex)


@pytest.mark.parametrize("kind, name, variant", _torch_error_cases(),
                         ids=lambda v: v if isinstance(v, str) and v else "-")
def test_torchs_error_inputs(kind, name, variant):
    from tests.conformance.test_torch_samples import WEIGHT_FIRST, _to_ember, module_db, op_db

    checked = 0
    if kind == "functional":
        op = next(o for o in op_db if o.name == "nn.functional." + name and o.variant_test_name == variant)
        fn = getattr(ember.nn.functional, name)
        for error_input in op.error_inputs("cpu"):
            s = error_input.sample_input
            if _has_complex((s.input, s.args, s.kwargs)):
                continue   # ember has no complex dtypes

            def ember_call(s=s):
                e_in, e_args, e_kwargs = _to_ember((s.input, s.args, s.kwargs), [])
                if name in WEIGHT_FIRST:
                    return fn(e_args[0], e_in, *e_args[1:], **e_kwargs)
                return fn(e_in, *e_args, **e_kwargs)
            # where this torch accepts the input there is nothing to compare: ember does not run
            ours, _ = same_outcome(ember_call, (), lambda s=s: op(s.input, *s.args, **s.kwargs), errors_only=True,
                                   quiet=True)
            checked += ours is not None
    else:
        info = next(i for i in module_db if i.module_cls.__name__ == name)
        for training in (True, False):
            for error_input in info.module_error_inputs_func(info, device="cpu", dtype=torch.float32,
                                                             requires_grad=False, training=training):
                ci = error_input.module_error_input.constructor_input
                fi = error_input.module_error_input.forward_input   # None: the constructor fails
                f = ((), {}) if fi is None else (fi.args, fi.kwargs)
                if _has_complex((ci.args, ci.kwargs, f)):
                    continue

                def run(L, args):
                    (c_args, c_kwargs), (f_args, f_kwargs) = args
                    return getattr(L.nn, name)(*c_args, **c_kwargs).train(training)(*f_args, **f_kwargs)
                t_args = ((ci.args, ci.kwargs), f)
                same_outcome(lambda a=t_args: run(ember, _to_ember(a, [])), (), lambda a=t_args: run(torch, a),
                             errors_only=True, quiet=True)
    assert checked or kind == "module", f"no error input of {name} was checked"
