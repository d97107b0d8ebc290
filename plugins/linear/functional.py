"""Affine maps: ``linear`` (``x W^T + b``) and ``bilinear`` (``x1^T W x2 + b``)."""

import ember
from ember.autograd import Function

from .._checks import tensor_arg

__all__ = ["linear", "bilinear"]


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` over the last dimension of ``input``.

    Args:
        input: ``(*, in_features)``.
        weight: ``(out_features, in_features)`` (or ``(in_features,)``, giving ``(*)``).
        bias: ``(out_features,)`` or None.

    Returns:
        ``(*, out_features)``.
    """
    tensor_arg(input, "linear", "input")
    tensor_arg(weight, "linear", "weight")
    tensor_arg(bias, "linear", "bias", optional=True)
    if input.dim() == 0 or weight.dim() == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                           f"{input.dim()}D and {weight.dim()}D")
    if weight.dim() > 2 or (weight.dim() == 1 and bias is not None):
        raise RuntimeError(f"linear: weight must be 2-D (or 1-D without a bias), but got a "
                           f"{weight.dim()}-D weight of shape {list(weight.shape)}")
    _same_dtypes("linear", input=input, weight=weight, bias=bias)
    if weight.dim() == 1:
        return input.matmul(weight)
    affine = _AddMm if bias is not None else _Mm
    if input.dim() == 2:
        return affine.apply(input, weight, bias)
    rows = input.reshape(-1, input.shape[-1])
    return affine.apply(rows, weight, bias).reshape(*input.shape[:-1], weight.shape[0])


class _Mm(Function):
    """``x @ w.T (+ b)`` for a 2-D ``x`` as one node (torch's mm / addmm), whose weight
    gradient ``g.T @ x`` comes out row-major like the weight itself."""

    backward_name = "MmBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        out = x.matmul(weight.t())
        return out if bias is None else out.add_(bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        return (grad.matmul(weight) if need_x else None, grad.t().matmul(x) if need_w else None,
                grad.sum(0) if need_b else None)


class _AddMm(_Mm):
    backward_name = "AddmmBackward0"


def _same_dtypes(fn, **tensors):
    """torch's kernels refuse operands of different dtypes rather than promote them."""
    named = [(name, t) for name, t in tensors.items() if t is not None]
    first_name, first = named[0]
    for name, t in named[1:]:
        if t.dtype != first.dtype:
            raise RuntimeError(f"{fn}: all tensors must have the same dtype, but {first_name} is "
                               f"{first.dtype} and {name} is {t.dtype}")


def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1^T W_k x2 + b_k`` for every output feature ``k``.

    Args:
        input1: ``(*, in1_features)``.
        input2: ``(*, in2_features)`` with the same leading dimensions.
        weight: ``(out_features, in1_features, in2_features)``.
        bias: ``(out_features,)`` or None.

    Returns:
        ``(*, out_features)``.
    """
    tensor_arg(input1, "bilinear", "input1")
    tensor_arg(input2, "bilinear", "input2")
    tensor_arg(weight, "bilinear", "weight")
    tensor_arg(bias, "bilinear", "bias", optional=True)
    if input1.dim() == 0 or input2.dim() == 0:
        raise IndexError(f"bilinear(): the inputs need at least one dimension (the features), but "
                         f"they are {input1.dim()}-D and {input2.dim()}-D")
    _same_dtypes("bilinear", input1=input1, input2=input2, weight=weight, bias=bias)
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    for i in range(input1.dim() - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(
                f"bilinear(): input batch dimensions do not match at dim {i}: got "
                f"{input1.shape[i]} and {input2.shape[i]}"
            )
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-dimensional, got {weight.dim()} dimensions")
    out_f, in1, in2 = weight.shape
    if input1.shape[-1] != in1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but expected {in1}")
    if input2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but expected {in2}")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_f):
        got = bias.shape[-1] if bias.dim() else 1
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {got} but expected {out_f}")
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    # (B, in1) @ (in1, out*in2) -> (B, out, in2), then contract in2 with x2
    t = x1.matmul(weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    out = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(lead + (out_f,))
