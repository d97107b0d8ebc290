"""Namespaces that PyTorch scripts import: ember.backends.cudnn, ember.nn.modules
(torch's submodule paths, the plugins' own classes, subclassable bases) and ember.onnx."""

import importlib

import numpy as np
import pytest

import ember
from ember.nn.modules._layout import BASES, LAYERS
from tests.oracle import torch


# ---------------------------------------------------------------- backends.cudnn
def test_cudnn_flags_have_torchs_defaults_and_can_be_set():
    cudnn = ember.backends.cudnn
    for flag in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(cudnn, flag) == getattr(torch.backends.cudnn, flag)
    saved = cudnn.benchmark, cudnn.deterministic
    try:
        cudnn.benchmark, cudnn.deterministic = True, True
        import ember.backends.cudnn as again
        assert again.benchmark is True and again.deterministic is True
        assert ember.nn.Linear(2, 2)(ember.ones(1, 2)).shape == (1, 2)  # no effect on the CPU
    finally:
        cudnn.benchmark, cudnn.deterministic = saved


def test_cuda_matmul_tf32_switch_has_torchs_default_and_can_be_set(monkeypatch):
    """``torch.backends.cuda.matmul.allow_tf32 = True``, a line of many scripts, runs."""
    assert ember.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32 is False
    monkeypatch.setattr(ember.backends.cuda.matmul, "allow_tf32", True)
    import ember.backends.cuda as again
    assert again.matmul.allow_tf32 is True
    assert (ember.ones(1, 2) @ ember.ones(2, 1)).item() == 2.0   # no effect on the CPU


def test_cudnn_availability_follows_the_cuda_backend():
    cudnn = ember.backends.cudnn
    if not ember.cuda.is_available():
        assert cudnn.is_available() is False and cudnn.version() is None
    else:
        assert cudnn.is_available() == (cudnn.version() is not None)


def test_cudnn_is_not_a_backend_plugin():
    assert "cudnn" not in {p.name for p in ember.plugins.list()}


# ---------------------------------------------------------------- nn.modules
@pytest.mark.parametrize("sub", sorted(LAYERS))
def test_each_name_sits_where_torch_has_it_and_is_the_plugins_class(sub):
    mod = importlib.import_module(f"ember.nn.modules.{sub}")
    torch_mod = importlib.import_module(f"torch.nn.modules.{sub}")
    for name in LAYERS[sub]:
        assert hasattr(torch_mod, name), f"torch.nn.modules.{sub} has no {name}"
        assert getattr(mod, name) is getattr(ember.nn, name)
        assert getattr(ember.nn.modules, name) is getattr(ember.nn, name)
    assert sorted(mod.__all__) == sorted(LAYERS[sub])
    assert set(LAYERS[sub]) <= set(dir(mod))


@pytest.mark.parametrize("sub,base", [(s, b) for s in sorted(BASES) for b in BASES[s]])
def test_private_bases_are_real_bases_of_the_public_classes(sub, base):
    cls = getattr(importlib.import_module(f"ember.nn.modules.{sub}"), base)
    torch_cls = getattr(importlib.import_module(f"torch.nn.modules.{sub}"), base)
    subclasses = [n for n in LAYERS[sub] if issubclass(getattr(torch.nn, n), torch_cls)]
    assert subclasses
    for name in subclasses:
        assert issubclass(getattr(ember.nn, name), cls), f"ember.nn.{name} does not derive from {base}"


def test_import_forms():
    from ember.nn.modules.loss import _Loss, _WeightedLoss  # noqa: F401
    from ember.nn.modules.conv import _ConvNd
    from ember.nn.modules.batchnorm import _BatchNorm
    from ember.nn.modules.rnn import RNNBase
    from ember.nn.modules.module import Module
    from ember.nn.modules.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
    from ember.nn.modules.utils import _pair, _quadruple, _single, _triple
    import ember.nn.modules.pooling as pooling

    assert issubclass(ember.nn.Conv2d, _ConvNd) and issubclass(ember.nn.BatchNorm2d, _BatchNorm)
    assert issubclass(ember.nn.LSTM, RNNBase) and Module is ember.nn.Module
    assert (Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict) == (
        ember.nn.Sequential, ember.nn.ModuleList, ember.nn.ModuleDict, ember.nn.ParameterList,
        ember.nn.ParameterDict)
    tm = torch.nn.modules.utils
    for ours, theirs, arg in [(_single, tm._single, 3), (_pair, tm._pair, 3), (_triple, tm._triple, (1, 2, 3)),
                              (_quadruple, tm._quadruple, 2), (_pair, tm._pair, [4, 5])]:
        assert ours(arg) == theirs(arg)
    assert issubclass(pooling.MaxPool2d, pooling._MaxPoolNd)
    assert ember.nn.modules.loss is importlib.import_module("ember.nn.modules.loss")


def test_unknown_and_disabled_names():
    with pytest.raises(AttributeError, match="module 'ember.nn.modules.loss' has no attribute 'Nope'"):
        ember.nn.modules.loss.Nope
    with pytest.raises(AttributeError, match="has no attribute '_ConvTransposeMixin'"):
        ember.nn.modules.conv._ConvTransposeMixin
    with pytest.raises(ImportError):
        importlib.import_module("ember.nn.modules.nonexistent")
    ember.plugins.disable("losses")
    try:
        for name in ("_Loss", "MSELoss"):
            with pytest.raises(AttributeError, match="provided by plugin 'losses', which is disabled"):
                getattr(ember.nn.modules.loss, name)
        assert "MSELoss" not in dir(ember.nn.modules.loss) and "_Loss" not in dir(ember.nn.modules.loss)
    finally:
        ember.plugins.enable("losses")
    assert ember.nn.modules.loss._Loss is ember.nn.MSELoss.__mro__[1]


def _user_losses(lib):
    F = lib.nn.functional
    from importlib import import_module
    losses = import_module(f"{lib.__name__}.nn.modules.loss")

    class SquaredLoss(losses._Loss):
        def forward(self, input, target):
            return F.mse_loss(input, target, reduction=self.reduction)

    class WeightedNLL(losses._WeightedLoss):
        def forward(self, input, target):
            return F.nll_loss(F.log_softmax(input, 1), target, weight=self.weight, reduction=self.reduction)

    return SquaredLoss, WeightedNLL


@pytest.mark.filterwarnings("ignore:size_average and reduce args will be deprecated")
@pytest.mark.parametrize("kwargs", [{}, {"reduction": "sum"}, {"reduction": "none"}, {"size_average": False},
                                    {"reduce": False}])
def test_user_losses_derived_from_the_private_bases_behave_like_torchs(kwargs):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    labels, weight = rng.integers(0, 3, 4), rng.uniform(0.5, 2, 3)
    results = {}
    for lib in (ember, torch):
        squared, weighted = _user_losses(lib)
        xs = lib.tensor(x).requires_grad_()
        a = squared(**kwargs)
        b = weighted(weight=lib.tensor(weight), **kwargs)
        out = a(xs, lib.tensor(y)).sum() + b(xs, lib.tensor(labels)).sum()
        out.backward()
        results[lib.__name__] = (a.reduction, b.reduction, sorted(b.state_dict()), out.item(), xs.grad.numpy())
    ours, theirs = results["ember"], results["torch"]
    assert ours[:3] == theirs[:3]
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-12)
    np.testing.assert_allclose(ours[4], theirs[4], rtol=1e-10, atol=1e-12)


def test_user_convolution_derived_from_convnd():
    from ember.nn.modules.conv import _ConvNd

    class Doubled(ember.nn.Conv2d):
        def forward(self, x):
            return 2 * super().forward(x)

    layer = Doubled(1, 2, 3)
    assert isinstance(layer, _ConvNd) and layer(ember.ones(1, 1, 5, 5)).shape == (1, 2, 3, 3)


# ---------------------------------------------------------------- onnx
def test_onnx_export_raises_a_clear_not_implemented_error():
    import ember.onnx

    assert ember.onnx.is_in_onnx_export() is False
    model = ember.nn.Linear(2, 2)
    for call in (lambda: ember.onnx.export(model, ember.ones(1, 2), "model.onnx", verbose=True),
                 lambda: ember.onnx._export(model, ember.ones(1, 2), "model.onnx"),
                 lambda: ember.onnx.export_to_pretty_string(model, ember.ones(1, 2))):
        with pytest.raises(NotImplementedError, match="no ONNX exporter.*state_dict.*torch.onnx.export"):
            call()
