"""The ``utils`` family: ``ember.nn.utils`` helpers and the Flatten/Unflatten modules."""

from ember.hookspecs import hookimpl
from ember.plugins import exports, family_hooks

#: The families this one calls into; disabling one of them disables this one too.
REQUIRES = ("distance",)

ember_register_modules, ember_register_functions, ember_register_kernels = family_hooks(__name__)


@hookimpl
def ember_register_utils():
    from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
    from .convert_parameters import parameters_to_vector, vector_to_parameters
    from .spectral_norm import remove_spectral_norm, spectral_norm
    from .weight_norm import remove_weight_norm, weight_norm

    return {"clip_grad_norm_": clip_grad_norm_, "clip_grad_norm": clip_grad_norm, "clip_grad_value_": clip_grad_value_,
            "clip_grads_with_norm_": clip_grads_with_norm_, "get_total_norm": get_total_norm,
            "parameters_to_vector": parameters_to_vector,
            "vector_to_parameters": vector_to_parameters,
            "weight_norm": weight_norm, "remove_weight_norm": remove_weight_norm,
            "spectral_norm": spectral_norm, "remove_spectral_norm": remove_spectral_norm}


__getattr__, __dir__ = exports(__name__)
