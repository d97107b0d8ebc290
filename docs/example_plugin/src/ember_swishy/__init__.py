"""``ember-swishy``: an example third-party layer family for ember.

It adds ``ember.nn.BetaSwish`` and ``ember.nn.ShiftedSoftplus``,
``ember.nn.functional.beta_swish``, a generic kernel for its own op
``swishy.beta_swish``, and an instrumented replacement of the cpu backend's
``tanh_backward`` kernel that counts its calls (see ``instrument.py``).

This module is what the ``ember`` entry point names: it only implements hooks,
and imports the family's code when a hook is called.
"""

from ember import hookimpl
from ember.plugins import exports, public

#: The plugins this one needs: ShiftedSoftplus derives from the activation family's
#: Softplus. Disabling ``activation`` disables this plugin too, with a warning.
REQUIRES = ("activation",)


@hookimpl
def ember_register_modules():
    from . import modules

    return public(modules)  # {name: class} for each name of modules.__all__


@hookimpl
def ember_register_functions():
    from . import functional

    return public(functional)


@hookimpl
def ember_register_kernels():
    from .kernels import table

    return table()


# ``from ember_swishy import BetaSwish``, as ``from ember.plugins.linear import Linear``
__getattr__, __dir__ = exports(__name__)
