"""The ``activation`` layer family: element-wise non-linearities and the softmax
family (``ember.nn.ReLU``, ``ember.nn.functional.relu``, ...)."""

from ember.hookspecs import hookimpl
from ember.plugins import exports

_MODULES = ("ELU", "Hardshrink", "Hardtanh", "LeakyReLU", "LogSigmoid", "PReLU", "ReLU", "ReLU6",
            "RReLU", "SELU", "CELU", "GELU", "GLU", "Sigmoid", "Softplus", "Softshrink", "Softsign",
            "Tanh", "Tanhshrink", "Threshold", "Softmin", "Softmax", "Softmax2d", "LogSoftmax",
            "SiLU", "Mish", "Hardsigmoid", "Hardswish")

_FUNCTIONS = ("elu", "elu_", "hardshrink", "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_",
              "logsigmoid", "prelu", "relu", "relu_", "relu6", "rrelu", "rrelu_", "selu", "selu_",
              "celu", "celu_", "sigmoid", "tanh", "softplus", "softshrink", "softsign", "tanhshrink",
              "threshold", "threshold_", "softmin", "softmax", "log_softmax", "gelu", "glu",
              "silu", "mish", "hardsigmoid", "hardswish", "gumbel_softmax")


@hookimpl
def ember_register_modules():
    from . import modules

    return {name: getattr(modules, name) for name in _MODULES}


@hookimpl
def ember_register_functions():
    from . import functional

    return {name: getattr(functional, name) for name in _FUNCTIONS}


__getattr__, __dir__ = exports(__name__)
