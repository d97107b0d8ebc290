"""Conversions between a model's parameters and one flat vector."""

import ember


def _check_same_device(param, device):
    if device is None:
        return param.device
    if param.device != device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return device


def parameters_to_vector(parameters):
    r"""Concatenate the parameters, flattened, into one 1-D tensor.

    Args:
        parameters (Iterable[Tensor]): the parameters of a model.

    Returns:
        Tensor: a vector of ``sum(p.numel())`` elements, differentiable with respect
        to the parameters.

    Example:
        >>> model = ember.nn.Linear(3, 2)
        >>> ember.nn.utils.parameters_to_vector(model.parameters()).shape
        ember.Size([8])
    """
    device = None
    flat = []
    for p in parameters:
        if not isinstance(p, ember.Tensor):
            raise TypeError(f"parameters_to_vector(): expected Tensors, but got {type(p).__name__}")
        device = _check_same_device(p, device)
        flat.append(p.view(-1))
    return ember.cat(flat)


def vector_to_parameters(vec, parameters):
    r"""Copy consecutive slices of ``vec`` into the parameters (replacing their data).

    Args:
        vec (Tensor): a vector holding all the parameters' values, in order.
        parameters (Iterable[Tensor]): the parameters of a model.
    """
    if not isinstance(vec, ember.Tensor):
        raise TypeError(f"expected ember.Tensor, but got: {type(vec).__name__}")
    device = None
    start = 0
    for p in parameters:
        device = _check_same_device(p, device)
        n = p.numel()
        p.data = vec[start:start + n].view_as(p).data
        start += n
