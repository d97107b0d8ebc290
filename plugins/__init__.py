"""``ember.plugins``: the built-in layer families, and the user's plugin switches.

``list()`` reports every plugin found, ``enable(name)`` / ``disable(name)`` switch
one on or off (its modules, functions, kernels and backends come and go with it).
Environment: ``EMBER_DISABLE_PLUGIN_AUTOLOAD=1`` loads only ember's own plugins;
``EMBER_DISABLE_PLUGINS=a,b`` skips the named ones.
"""

import functools
import importlib
import pkgutil
import sys

from ember.hookspecs import hookimpl

from ember._plugins import MANAGER as _MANAGER, PluginConflictError, PluginFault, PluginInfo

_NAME_HOOKS = ("ember_register_modules", "ember_register_functions", "ember_register_utils")


def list():
    """Every plugin found: name, distribution, version, enabled, builtin, error."""
    return [info for info in _MANAGER.plugins.values()]


def enable(name):
    """Enable plugin ``name`` (loading it if it was skipped at import)."""
    _MANAGER.enable(name)


def disable(name):
    """Disable plugin ``name``; essential plugins (the cpu backend) refuse."""
    _MANAGER.disable(name)


@functools.cache
def _submodules(package):
    """The names of the modules in ``package``'s folder (listed once)."""
    return frozenset(info.name for info in pkgutil.iter_modules(sys.modules[package].__path__))


def public(module):
    """``{name: module.<name>}`` for every name in ``module.__all__``."""
    return {name: getattr(module, name) for name in module.__all__}


def family_hooks(package):
    """The three hooks of a layer family laid out the standard way, for its
    ``__init__.py``: ``modules.py`` and ``functional.py`` list what they export in
    ``__all__`` (registered as ``ember.nn.<name>`` and
    ``ember.nn.functional.<name>``), and ``kernels.py`` returns the family's kernels
    from ``table()``. A file the family does not have registers nothing."""

    def part(name):
        return importlib.import_module(f"{package}.{name}") if name in _submodules(package) else None

    @hookimpl
    def ember_register_modules():
        modules = part("modules")
        return public(modules) if modules else {}

    @hookimpl
    def ember_register_functions():
        functional = part("functional")
        return public(functional) if functional else {}

    @hookimpl
    def ember_register_kernels():
        kernels = part("kernels")
        return kernels.table() if kernels else {}

    return ember_register_modules, ember_register_functions, ember_register_kernels


def exports(module_name):
    """``(__getattr__, __dir__)`` for a family's ``__init__``: the names its hooks
    register (modules, functions, utilities; ``rnn.pad_sequence`` as ``pad_sequence``)
    become attributes of the family module, and ``__all__`` lists them, so that
    ``from ember.plugins.linear import Linear`` works like ``ember.nn.Linear``."""

    def table():
        module = sys.modules[module_name]
        names = {}
        for hook in _NAME_HOOKS:
            fn = vars(module).get(hook)
            if fn is not None:
                names.update({key.rsplit(".", 1)[-1]: value for key, value in (fn() or {}).items()})
        return names

    def __getattr__(name):
        if name == "__all__":
            return sorted(table())
        if name.startswith("__") or name in _submodules(module_name):
            # a submodule being imported (``from . import functional``): the import
            # system loads it once this says it is not an attribute yet
            raise AttributeError(name)
        try:
            return table()[name]
        except KeyError:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}") from None

    def __dir__():
        return sorted(set(vars(sys.modules[module_name])) | set(table()))

    return __getattr__, __dir__


def register(module, name):
    """Register an imported module as a plugin (as an entry point would)."""
    _MANAGER.register(module, name)


__all__ = ["PluginConflictError", "PluginFault", "PluginInfo", "disable", "enable", "exports",
           "family_hooks", "list", "public", "register"]
