"""Module-level ``__getattr__``/``__dir__`` that serve names from the plugin registry."""


def registry_namespace(kind, module_globals, prefix=""):
    """Return ``(__getattr__, __dir__)`` for ``ember.nn`` (kind ``"module"``),
    ``ember.nn.functional`` (``"function"``) or ``ember.nn.utils`` (``"util"``).

    Registered names with a dotted ``prefix`` (``"rnn."``) belong to the
    submodule that passes that prefix (``ember.nn.utils.rnn``), not to the parent.
    """
    from .._plugins import MANAGER

    def table():
        return MANAGER.tables[kind]

    def __getattr__(name):
        try:
            return table()[prefix + name]
        except KeyError:
            pass
        where = module_globals["__name__"]
        provider = MANAGER.provider_of(kind, prefix + name)
        if provider is not None:
            raise AttributeError(
                f"module '{where}' has no attribute '{name}': it is provided by plugin "
                f"'{provider}', which is disabled (ember.plugins.enable('{provider}'))"
            )
        raise AttributeError(f"module '{where}' has no attribute '{name}'")

    def __dir__():
        names = {key[len(prefix):] for key in table() if key.startswith(prefix)}
        return sorted(set(module_globals) | {name for name in names if "." not in name})

    return __getattr__, __dir__
