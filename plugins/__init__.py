"""``ember.plugins``: the built-in layer families, and the user's plugin switches.

``list()`` reports every plugin found, ``enable(name)`` / ``disable(name)`` switch
one on or off (its modules, functions, kernels and backends come and go with it).
Environment: ``EMBER_DISABLE_PLUGIN_AUTOLOAD=1`` loads only ember's own plugins;
``EMBER_DISABLE_PLUGINS=a,b`` skips the named ones.
"""

import importlib.machinery
import sys

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


def merge_tables(topics, table):
    """One dict from the ``table`` dicts (``"MODULES"``, ``"FUNCTIONS"``...) of
    ``topics``: for a layer family split into topic files that each list what
    they provide; a topic without that table adds nothing."""
    merged = {}
    for topic in topics:
        merged.update(getattr(topic, table, {}))
    return merged


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
        if name.startswith("__") or importlib.machinery.PathFinder.find_spec(
                name, sys.modules[module_name].__path__) is not None:
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


__all__ = ["PluginConflictError", "PluginFault", "PluginInfo", "disable", "enable", "exports", "list",
           "merge_tables", "register"]
