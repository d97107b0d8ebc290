"""The plugin contract: every hook a backend or layer-family plugin may implement.

Each hook is a collection hook: every registered plugin's result is merged by the
core (none is ``firstresult``). A plugin implements a hook by defining a function
of the same name decorated with ``ember.hookimpl``.
"""

import pluggy

hookspec = pluggy.HookspecMarker("ember")
hookimpl = pluggy.HookimplMarker("ember")


@hookspec
def ember_register_backends():
    """Return a list of backend objects (see ``ember.backend.Backend``).

    A backend's ``name`` is the device type users write (``"cpu"``, ``"cuda"``).
    """


@hookspec
def ember_register_kernels():
    """Return a mapping ``(op_name, backend_name) -> callable``.

    A kernel replaces the generic implementation of ``op_name`` on that backend;
    its signature is the generic kernel's (see the op's module in ``ember._ops``
    or the family that defines the op).
    """


@hookspec
def ember_register_modules():
    """Return a mapping ``name -> Module subclass``, exported as ``ember.nn.<name>``."""


@hookspec
def ember_register_functions():
    """Return a mapping ``name -> callable``, exported as ``ember.nn.functional.<name>``."""


@hookspec
def ember_register_utils():
    """Return a mapping ``name -> callable``, exported as ``ember.nn.utils.<name>``
    (gradient clipping, parameter vectors, weight norm, packed sequences...)."""
