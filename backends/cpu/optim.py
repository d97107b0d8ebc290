"""The fused optimizer steps of the CPU backend (``_optim.pyx``), as kernels.

``optim.sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov, first)``
``optim.adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps, weight_decay, decoupled, step)``
    update the arrays in place and return True, or return False without touching
    anything when the arrays are not what the loops take (C-contiguous float32 or
    float64 of one dtype and shape, not sharing memory): the optimizer then runs
    its tensor ops.
    ``momentum_buffer`` and ``max_exp_avg_sq`` may be None.
"""

from .dispatch import load_companion
from .kernels import VARIANT, contiguous_floats

_optim = load_companion("_optim", VARIANT)


def sgd_step(param, grad, momentum_buffer, *hyper):
    if not contiguous_floats(param, grad, momentum_buffer):
        return False
    return _optim.sgd_step(param.reshape(-1), grad.reshape(-1),
                           None if momentum_buffer is None else momentum_buffer.reshape(-1), *hyper)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *hyper):
    if not contiguous_floats(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq):
        return False
    return _optim.adam_step(param.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1),
                            exp_avg_sq.reshape(-1),
                            None if max_exp_avg_sq is None else max_exp_avg_sq.reshape(-1), *hyper)


#: op -> kernel, registered for the ``cpu`` backend.
KERNELS = {"optim.sgd_step": sgd_step, "optim.adam_step": adam_step}
