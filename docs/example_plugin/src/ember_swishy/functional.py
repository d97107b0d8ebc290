"""``beta_swish``: the family's function, running its own kernel.

The forward pass runs the ``swishy.beta_swish`` kernel of the input's backend
(``ember.backend.run_kernel`` finds it: a backend's own kernel if a plugin
registered one, else the generic kernel built for its ``xp``). The backward pass
is written with Tensor ops, so it is itself differentiable (double backward).
"""

import ember
from ember.autograd import Function
from ember.backend import FLOATING, check_dtype, data_of, run_kernel

__all__ = ["beta_swish"]


class _BetaSwish(Function):
    """``x * sigmoid(beta * x)``; ``beta`` is a number or a one-element tensor."""

    backward_name = "BetaSwishBackward"

    @staticmethod
    def forward(ctx, input, beta):
        learnable = isinstance(beta, ember.Tensor)
        ctx.save_for_backward(input, beta if learnable else None)
        ctx.number = None if learnable else beta
        return run_kernel("swishy.beta_swish", input, data_of(beta) if learnable else beta)

    @staticmethod
    def backward(ctx, grad):
        input, beta = ctx.saved_tensors
        if beta is None:
            beta = ctx.number
        s = (beta * input).sigmoid()
        slope = s * (1 - s)
        grad_input = grad * (s + beta * input * slope)
        if ctx.number is not None:
            return grad_input, None
        return grad_input, (grad * input * input * slope).sum().reshape(beta.shape)


def beta_swish(input, beta=1.0):
    """Swish with slope ``beta``: ``input * sigmoid(beta * input)``, element-wise.
    With ``beta=1`` it is ``torch.nn.functional.silu``.

    Args:
        input: a floating tensor.
        beta: a number, or a one-element tensor (which then gets a gradient).

    Examples::

        >>> import ember_swishy.functional as S
        >>> S.beta_swish(ember.tensor([0.0, 2.0]), beta=0.5)
        tensor([0.0000, 1.4621])
    """
    if not isinstance(input, ember.Tensor):
        raise TypeError(f"beta_swish(): argument 'input' must be Tensor, not {type(input).__name__}")
    check_dtype(input, "beta_swish", FLOATING)
    if isinstance(beta, ember.Tensor) and beta.numel() != 1:
        raise ValueError(f"beta_swish(): beta must be a number or a one-element tensor, "
                         f"got shape {list(beta.shape)}")
    return _BetaSwish.apply(input, beta)
