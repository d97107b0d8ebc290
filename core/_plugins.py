"""The plugin manager: discovery through the ``ember`` entry-point group, merging of
what plugins register, and the user's switches (list, enable, disable, env vars).

Built-in backends and layer families are entry points of ember's own distribution,
so they take exactly the path a third-party package takes; the core's own generic
kernels come from the ``core`` plugin, registered first.

Faults stay with the plugin that has them: one that fails to import, whose hook
raises, or whose hook returns something that is not what the hook promises, is
refused with one RuntimeWarning naming it and the reason, and the rest loads.

A plugin module may set ``REQUIRES = ("padding", ...)``: the plugins it needs.
When one of those is disabled or missing, the plugin is disabled too, with a
RuntimeWarning naming the requirement (``enable`` of such a plugin raises).
"""

import inspect
import os
import warnings

import pluggy

from . import hookspecs
from .backend import REGISTRY, missing_members
from .kernels import GENERIC, Kernel

ENTRY_POINT_GROUP = "ember"
CORE_PLUGIN = "core"
ESSENTIAL = frozenset({CORE_PLUGIN, "cpu"})
# the name tables that plugins fill, each served by one namespace of ember.nn
NAME_HOOKS = {"module": "ember_register_modules", "function": "ember_register_functions",
              "util": "ember_register_utils"}


class PluginConflictError(RuntimeError):
    """Two plugins registered the same public name, backend or kernel."""


class PluginFault(RuntimeError):
    """A plugin's hook raised or returned something other than the hook promises."""

    def __init__(self, plugin, message):
        super().__init__(message)
        self.later = plugin


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
        """Register the ``core`` plugin, then find and load every plugin of the
        ``ember`` entry-point group: ember's own first, then the registries are
        built (so a third-party module can subclass ``ember.nn.Linear`` while it is
        imported), then the third-party ones."""
        from importlib import import_module
        from importlib.metadata import entry_points, version

        core = PluginInfo(CORE_PLUGIN, "ember", version("ember"), True)
        core.module = "ember._ops.kernels"
        self.plugins[CORE_PLUGIN] = core
        self._load(core, lambda: import_module(core.module))
        autoload = os.environ.get("EMBER_DISABLE_PLUGIN_AUTOLOAD", "") in ("", "0")
        blocked = {n.strip() for n in os.environ.get("EMBER_DISABLE_PLUGINS", "").split(",") if n.strip()}
        found = sorted(entry_points(group=ENTRY_POINT_GROUP),
                       key=lambda ep: (ep.dist is None or ep.dist.name != "ember", ep.name))
        builtins_done = False
        for ep in found:
            if ep.name in self.plugins:
                continue
            dist = ep.dist.name if ep.dist is not None else "?"
            info = PluginInfo(ep.name, dist, ep.dist.version if ep.dist is not None else "?",
                              dist == "ember")
            if not info.builtin and not builtins_done:
                self.refresh()
                builtins_done = True
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
        """``[(plugin_name, result), ...]`` for one hook, in registration order; a hook
        that raises is a :class:`PluginFault` of its plugin."""
        results = []
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            try:
                value = impl.function()
            except Exception as exc:  # a plugin's bug is reported as that plugin's fault
                raise PluginFault(impl.plugin_name, f"its hook {hook}() raised "
                                  f"{type(exc).__name__}: {exc}") from exc
            if value:
                results.append((impl.plugin_name, value))
        return results

    def refresh(self, newcomer=None):
        """Rebuild modules, functions, backends and kernels from the enabled plugins.

        A name registered by two plugins is a ``PluginConflictError`` naming both; a
        hook that raises or returns the wrong thing is a ``PluginFault``. Enabling the
        plugin that causes either raises; at import, the culprit is refused with a
        warning and the rest loads. Plugins whose requirements are not enabled are
        disabled with a warning.
        """
        while True:
            try:
                self._disable_orphans()
                self._merge()
                return
            except (PluginConflictError, PluginFault) as exc:
                culprit = newcomer or exc.later
                self.disable(culprit, _refresh=False)
                self.plugins[culprit].error = str(exc)
                if newcomer:
                    self._disable_orphans()
                    self._merge()
                    raise
                warnings.warn(f"ember plugin '{culprit}' refused: {exc}", RuntimeWarning, stacklevel=3)

    def _disable_orphans(self):
        """Disable, with a warning, every enabled plugin that requires one that is not."""
        changed = True
        while changed:
            changed = False
            for info in self.plugins.values():
                if info.enabled and self._disable_if_unmet(info):
                    warnings.warn(f"ember plugin '{info.name}' disabled: it {info.error}",
                                  RuntimeWarning, stacklevel=4)
                    changed = True

    def _disable_if_unmet(self, info):
        """Disable plugin ``info`` when a plugin it requires is not enabled, saying which
        in its ``error``; True when it did."""
        missing = [r for r in self.requirements(info.name)
                   if not (r in self.plugins and self.plugins[r].enabled)]
        if missing:
            self.disable(info.name, _refresh=False)
            info.error = f"requires plugin(s) {', '.join(map(repr, missing))}, not enabled"
        return bool(missing)

    def requirements(self, name):
        """The plugins that plugin ``name`` declares it needs (its module's ``REQUIRES``)."""
        module = self.plugins[name].module if name in self.plugins else None
        return tuple(getattr(module, "REQUIRES", ())) if not isinstance(module, str) else ()

    def _merge(self):
        owner = {}
        tables = {}
        for kind, hook in NAME_HOOKS.items():
            table = tables[kind] = {}
            for plugin, mapping in self._collect(hook):
                for key, value in _mapping(plugin, hook, mapping).items():
                    _check_entry(plugin, kind, key, value)
                    if key in table:
                        raise _conflict(kind, key, owner[(kind, key)], plugin)
                    table[key] = value
                    owner[(kind, key)] = plugin
        kernels = self._merge_kernels(owner)
        backends = {}
        for plugin, items in self._collect("ember_register_backends"):
            for be in _backends(plugin, items):
                if be.name in backends:
                    raise _conflict("backend", be.name, owner[("backend", be.name)], plugin)
                backends[be.name] = be
                owner[("backend", be.name)] = plugin
        self.tables = tables
        self.owner = owner
        REGISTRY.set_contents(backends, kernels, {k[1]: p for k, p in owner.items() if k[0] == "kernel"})

    def _merge_kernels(self, owner):
        """``(op, backend) -> Kernel``: a key claimed twice is a conflict unless exactly
        one of the two claims says ``override=True``, which then wins."""
        kernels = {}
        for plugin, mapping in self._collect("ember_register_kernels"):
            for key, value in _mapping(plugin, "ember_register_kernels", mapping).items():
                entry = _kernel_entry(plugin, key, value)
                if key in kernels:
                    first = owner[("kernel", key)]
                    if entry.override == kernels[key].override:
                        raise _conflict("kernel", key, first, plugin, hint=True)
                    if not entry.override:
                        continue
                kernels[key] = entry
                owner[("kernel", key)] = plugin
        return kernels

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
        if self._disable_if_unmet(info):
            raise RuntimeError(f"plugin '{name}' {info.error}: enable them first")
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


def _conflict(kind, key, first, later, hint=False):
    extra = "; a plugin that means to replace the other's kernel says so with " \
            "ember.kernels.kernel(fn, override=True)" if hint else ""
    err = PluginConflictError(f"{kind} {key!r} is registered by both plugin '{first}' and plugin "
                              f"'{later}'{extra}")
    err.later = later
    return err


def _mapping(plugin, hook, value):
    if not hasattr(value, "items"):
        raise PluginFault(plugin, f"its hook {hook}() returned {type(value).__name__}, not a mapping")
    return dict(value)


def _check_entry(plugin, kind, key, value):
    """A name-table entry must be a str naming a Module subclass (modules) or a callable."""
    from .nn.module import Module

    if not isinstance(key, str) or not key:
        raise PluginFault(plugin, f"it registered the {kind} name {key!r}, which is not a non-empty str")
    if kind == "module" and not (inspect.isclass(value) and issubclass(value, Module)):
        raise PluginFault(plugin, f"it registered module {key!r} as {value!r}, which is not a "
                          f"subclass of ember.nn.Module")
    if not callable(value):
        raise PluginFault(plugin, f"it registered {kind} {key!r} as {value!r}, which is not callable")


def _kernel_entry(plugin, key, value):
    if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key)):
        raise PluginFault(plugin, f"it registered the kernel key {key!r}, which is not "
                          f"(op name, backend name or {GENERIC!r})")
    if isinstance(value, Kernel):
        return value
    if not callable(value):
        raise PluginFault(plugin, f"it registered kernel {key!r} as {value!r}, which is not callable")
    return Kernel(value)


def _backends(plugin, items):
    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        raise PluginFault(plugin, f"its hook ember_register_backends() returned "
                          f"{type(items).__name__}, not a list of backends")
    items = list(items)
    for be in items:
        missing = missing_members(be)
        if missing or not isinstance(be.name, str):
            raise PluginFault(plugin, f"it registered the backend {be!r}, which lacks "
                              f"{', '.join(missing) or 'a str name'} of ember.backend.Backend")
    return items


MANAGER = Manager()
