"""``ember.plugins``: the built-in layer families, and the user's plugin switches.

``list()`` reports every plugin found, ``enable(name)`` / ``disable(name)`` switch
one on or off (its modules, functions, kernels and backends come and go with it).
Environment: ``EMBER_DISABLE_PLUGIN_AUTOLOAD=1`` loads only ember's own plugins;
``EMBER_DISABLE_PLUGINS=a,b`` skips the named ones.
"""

from ember._plugins import MANAGER as _MANAGER, PluginConflictError, PluginInfo


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


def register(module, name):
    """Register an imported module as a plugin (as an entry point would)."""
    _MANAGER.register(module, name)


__all__ = ["PluginConflictError", "PluginInfo", "disable", "enable", "list", "merge_tables", "register"]
