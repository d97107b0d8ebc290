"""The plugin manager: discovery through the ``ember`` entry-point group, merging of
what plugins register, and the user's switches (list, enable, disable, env vars).

Built-in backends and layer families are entry points of ember's own distribution,
so they take exactly the path a third-party package takes.
"""

import os
import warnings

import pluggy

from . import hookspecs
from .backend import REGISTRY

ENTRY_POINT_GROUP = "ember"
ESSENTIAL = frozenset({"cpu"})
# the name tables that plugins fill, each served by one namespace of ember.nn
NAME_HOOKS = {"module": "ember_register_modules", "function": "ember_register_functions",
              "util": "ember_register_utils"}


class PluginConflictError(RuntimeError):
    """Two plugins registered the same public name."""


class PluginInfo:
    """What ``ember.plugins.list()`` reports for one plugin."""

    __slots__ = ("name", "distribution", "version", "builtin", "enabled", "error", "module")

    def __init__(self, name, distribution, version, builtin):
        self.name = name
        self.distribution = distribution
        self.version = version
        self.builtin = builtin
        self.enabled = False
        self.error = None
        self.module = None

    def __repr__(self):
        state = "enabled" if self.enabled else ("failed: " + self.error if self.error else "disabled")
        return f"<plugin {self.name} ({self.distribution} {self.version}) {state}>"


class Manager:
    """Owns the pluggy ``PluginManager`` and the merged registries."""

    def __init__(self):
        self.pm = pluggy.PluginManager("ember")
        self.pm.add_hookspecs(hookspecs)
        self.plugins = {}
        self.tables = {kind: {} for kind in NAME_HOOKS}
        self.owner = {}

    # ------------------------------------------------------------ discovery
    def load_entry_points(self):
        """Find and load every plugin of the ``ember`` entry-point group."""
        from importlib.metadata import entry_points

        autoload = os.environ.get("EMBER_DISABLE_PLUGIN_AUTOLOAD", "") in ("", "0")
        blocked = {n.strip() for n in os.environ.get("EMBER_DISABLE_PLUGINS", "").split(",") if n.strip()}
        found = sorted(entry_points(group=ENTRY_POINT_GROUP),
                       key=lambda ep: (ep.dist is None or ep.dist.name != "ember", ep.name))
        for ep in found:
            if ep.name in self.plugins:
                continue
            dist = ep.dist.name if ep.dist is not None else "?"
            info = PluginInfo(ep.name, dist, ep.dist.version if ep.dist is not None else "?",
                              dist == "ember")
            info.module = ep.value
            self.plugins[ep.name] = info
            if (not autoload and not info.builtin) or (ep.name in blocked and ep.name not in ESSENTIAL):
                continue
            self._load(info, ep.load)
        self.refresh()

    def _load(self, info, loader):
        try:
            module = loader()
            self.pm.register(module, name=info.name)
            self.pm.check_pending()
        except Exception as exc:  # a broken plugin must not break `import ember`
            if self.pm.has_plugin(info.name):
                self.pm.unregister(name=info.name)
            info.error = f"{type(exc).__name__}: {exc}"
            info.enabled = False
            warnings.warn(f"ember plugin '{info.name}' ({info.distribution}) failed to load: "
                          f"{info.error}", RuntimeWarning, stacklevel=3)
            return False
        info.module = module
        info.enabled = True
        info.error = None
        return True

    def register(self, module, name, distribution="local", version="0"):
        """Register an already-imported plugin module (for tests and interactive use)."""
        info = PluginInfo(name, distribution, version, False)
        self.plugins[name] = info
        if self._load(info, lambda: module):
            self.refresh(newcomer=name)

    # ------------------------------------------------------------ merging
    def _collect(self, hook):
        """``[(plugin_name, result), ...]`` for one hook, in registration order."""
        results = []
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            value = impl.function()
            if value:
                results.append((impl.plugin_name, value))
        return results

    def refresh(self, newcomer=None):
        """Rebuild modules, functions, backends and kernels from the enabled plugins.

        A name registered by two plugins is a ``PluginConflictError`` naming both.
        Enabling the plugin that causes it raises; at import, the later plugin is
        refused with a warning and the rest loads.
        """
        while True:
            try:
                self._merge()
                return
            except PluginConflictError as exc:
                culprit = newcomer or exc.later
                self.disable(culprit, _refresh=False)
                self.plugins[culprit].error = str(exc)
                if newcomer:
                    self._merge()
                    raise
                warnings.warn(f"ember plugin '{culprit}' refused: {exc}", RuntimeWarning, stacklevel=3)

    def _merge(self):
        owner = {}
        tables = {}
        for kind, hook in list(NAME_HOOKS.items()) + [("kernel", "ember_register_kernels")]:
            table = tables[kind] = {}
            for plugin, mapping in self._collect(hook):
                for key, value in dict(mapping).items():
                    if key in table:
                        err = PluginConflictError(
                            f"{kind} {key!r} is registered by both plugin '{owner[(kind, key)]}' "
                            f"and plugin '{plugin}'"
                        )
                        err.later = plugin
                        raise err
                    table[key] = value
                    owner[(kind, key)] = plugin
        backends = {}
        for plugin, items in self._collect("ember_register_backends"):
            for be in items:
                if be.name in backends:
                    err = PluginConflictError(
                        f"backend {be.name!r} is registered by both plugin '{owner[('backend', be.name)]}' "
                        f"and plugin '{plugin}'"
                    )
                    err.later = plugin
                    raise err
                backends[be.name] = be
                owner[("backend", be.name)] = plugin
        self.tables = {kind: tables[kind] for kind in NAME_HOOKS}
        self.owner = owner
        REGISTRY.set_contents(backends, tables["kernel"],
                              {k[1]: p for k, p in owner.items() if k[0] == "kernel"})

    # ------------------------------------------------------------ switches
    def enable(self, name):
        """Load (if needed) and register plugin ``name``, then rebuild the registries."""
        info = self._info(name)
        if info.enabled:
            return
        if isinstance(info.module, str):
            from importlib import import_module

            loader = lambda: import_module(info.module.split(":")[0])  # noqa: E731
        else:
            loader = lambda: info.module  # noqa: E731
        if not self._load(info, loader):
            raise RuntimeError(f"plugin '{name}' failed to load: {info.error}")
        self.refresh(newcomer=name)

    def disable(self, name, _refresh=True):
        """Unregister plugin ``name``: its modules, functions, kernels and backends go away."""
        info = self._info(name)
        if name in ESSENTIAL:
            raise ValueError(f"plugin '{name}' is essential to ember and cannot be disabled")
        if self.pm.has_plugin(name):
            self.pm.unregister(name=name)
        info.enabled = False
        if _refresh:
            self.refresh()

    def _info(self, name):
        try:
            return self.plugins[name]
        except KeyError:
            known = ", ".join(sorted(self.plugins)) or "none"
            raise ValueError(f"no ember plugin named '{name}' (known: {known})") from None

    @property
    def modules(self):
        """``ember.nn`` names -> Module classes, from the enabled plugins."""
        return self.tables["module"]

    @property
    def functions(self):
        """``ember.nn.functional`` names -> functions, from the enabled plugins."""
        return self.tables["function"]

    def provider_of(self, kind, name):
        """The disabled plugin that would provide ``name`` (of table ``kind``), if any.

        Only asked on the error path of ``ember.nn`` lookups, so importing a plugin
        that was skipped at start-up (to read what it registers) costs nothing normally.
        """
        from importlib import import_module

        hook = NAME_HOOKS[kind]
        for info in self.plugins.values():
            if info.enabled or info.module is None:
                continue
            try:
                mod = info.module
                if isinstance(mod, str):
                    mod = import_module(mod.split(":")[0])
                fn = getattr(mod, hook, None)
                if fn is not None and name in (fn() or {}):
                    return info.name
            except Exception:
                continue
        return None


MANAGER = Manager()
