"""Sphinx extension: the parts of the API reference that are generated.

At ``builder-inited`` it writes, under ``api/generated/`` (included by the
hand-written pages of ``api/``):

- ``tensor_functions.inc``: every public function of the ``ember`` namespace,
  grouped by the core module that defines it;
- ``builtin_plugins.inc``: the table of ember's built-in plugins;
- ``nn_layers.inc``, ``functional.inc``, ``nn_utils.inc``: what each built-in
  layer family registers in ``ember.nn``, ``ember.nn.functional`` and
  ``ember.nn.utils``, family by family.

Built-in means a plugin of ember's own distribution (``"ember"``); plugins of
any other installed distribution never appear, even when they are loaded.
"""

import types
from pathlib import Path

from sphinx.util import logging

BUILTIN_DISTRIBUTION = "ember"

# the core module that defines a function of the ember namespace -> its section
FUNCTION_SECTIONS = {
    "ember._creation": "Creation",
    "ember._random": "Random sampling",
    "ember._ops.unary": "Pointwise functions",
    "ember._ops.binary": "Pointwise arithmetic, comparison and logic",
    "ember._ops.special": "Special functions",
    "ember._ops.select": "Selection and clamping",
    "ember._ops.compare": "Comparing tensors",
    "ember._ops.reduce": "Reductions",
    "ember._ops.sorting": "Sorting, order statistics and cumulative products",
    "ember._ops.counting": "Counting",
    "ember._ops.shape": "Shapes and views",
    "ember._ops.index": "Indexing",
    "ember._ops.index_write": "Indexed writes",
    "ember._ops.join": "Joining and splitting",
    "ember._ops.softmax": "Softmax",
    "ember._ops.linalg": "Matrix products",
    "ember._ops.matrix": "Matrix functions",
    "ember._ops.decompositions": "Decompositions and solvers",
    "ember._ops.einsum": "Einstein summation",
    "ember._methods": "In-place functions and method aliases",
    "ember._sparse": "Sparse tensors",
    "ember._tensor": "Tensor checks",
    "ember._dtype": "Data types",
    "ember._legacy_types": "Data types",
    "ember._legacy_functions": "Legacy functions",
    "ember.autograd.grad_mode": "Gradient mode",
    "ember._tensor_str": "Printing",
    "ember._threads": "Threads",
    "ember.serialization": "Saving and loading",
}
OTHER_FUNCTIONS = "Other functions"

# the plugin tables of ember.nn: table kind -> (namespace, page file)
NN_TABLES = {
    "module": ("ember.nn", "nn_layers.inc"),
    "function": ("ember.nn.functional", "functional.inc"),
    "util": ("ember.nn.utils", "nn_utils.inc"),
}

#: Registered util names whose prefix is a namespace outside ``ember.nn.utils``:
#: ``parallel.replicate`` is ``ember.nn.parallel.replicate``.
UTIL_NAMESPACES_ELSEWHERE = {"parallel": "ember.nn"}

logger = logging.getLogger(__name__)


def _heading(title, underline="-"):
    return [title, underline * len(title), ""]


def _directive(obj):
    return "autoclass" if isinstance(obj, type) else "autofunction"


def tensor_functions_page(ember):
    """Every public function of ``ember``, one section per defining module."""
    sections = {}
    for name in sorted(vars(ember)):
        obj = getattr(ember, name)
        if name.startswith("_") or isinstance(obj, (type, types.ModuleType)) or not callable(obj):
            continue
        module = getattr(obj, "__module__", "") or ""
        if not module.startswith("ember"):
            continue  # hookimpl/hookspec: pluggy's markers, on the plugin page
        sections.setdefault(FUNCTION_SECTIONS.get(module, OTHER_FUNCTIONS), []).append(name)
    order = list(dict.fromkeys(FUNCTION_SECTIONS.values())) + [OTHER_FUNCTIONS]
    lines = []
    for title in order:
        if title in sections:
            lines += _heading(title)
            lines += [f".. autofunction:: ember.{name}\n" for name in sections[title]]
    return lines


def builtin_plugins(manager):
    """``{name: PluginInfo}`` of the plugins of ember's own distribution, in name order."""
    return {name: info for name, info in sorted(manager.plugins.items())
            if info.distribution == BUILTIN_DISTRIBUTION}


def registered_by(manager, plugin):
    """``{kind: [name, ...]}``: what ``plugin`` put in the registries."""
    found = {}
    for (kind, name), owner in sorted(manager.owner.items()):
        if owner == plugin:
            found.setdefault(kind, []).append(name)
    return found


def builtin_plugins_page(manager):
    """A table of the built-in plugins: entry point, module, what each registers."""
    lines = [".. list-table::", "   :header-rows: 1", "",
             "   * - plugin", "     - module", "     - registers"]
    for name, info in builtin_plugins(manager).items():
        found = registered_by(manager, name)
        module = info.module.__name__ if isinstance(info.module, types.ModuleType) else info.module
        counts = ", ".join(f"{len(names)} {kind}{'s' if len(names) > 1 else ''}"
                           for kind, names in found.items())
        lines += [f"   * - ``{name}``", f"     - ``{module}``", f"     - {counts or 'nothing'}"]
    return lines + [""]


def nn_table_page(manager, kind):
    """One section per built-in family: the autodoc entry of each name it registers
    in the table ``kind`` (``ember.nn.utils.rnn`` names carry the ``rnn.`` prefix)."""
    namespace = NN_TABLES[kind][0]
    lines = []
    for plugin in builtin_plugins(manager):
        names = registered_by(manager, plugin).get(kind)
        if not names:
            continue
        lines += _heading(plugin)
        for name in names:
            elsewhere = UTIL_NAMESPACES_ELSEWHERE.get(name.split(".")[0]) if kind == "util" else None
            target = f"{elsewhere or namespace}.{name}"
            obj = manager.tables[kind][name]
            lines += [f".. {_directive(obj)}:: {target}"]
            if kind != "module" and any(obj is layer for layer in manager.tables["module"].values()):
                lines += ["   :no-index:"]   # documented with the layers too (DataParallel)
            lines += [""]
    return lines


def _write(path, lines):
    text = "\n".join(lines) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_pages(app):
    import ember
    from ember._plugins import MANAGER

    for name, info in builtin_plugins(MANAGER).items():
        if not info.enabled:
            logger.warning(f"built-in plugin '{name}' is not loaded ({info.error}): "
                           "its part of the API reference is missing")
    out = Path(app.srcdir, "api", "generated")
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "tensor_functions.inc", tensor_functions_page(ember))
    _write(out / "builtin_plugins.inc", builtin_plugins_page(MANAGER))
    for kind, (_, filename) in NN_TABLES.items():
        _write(out / filename, nn_table_page(MANAGER, kind))


def setup(app):
    app.connect("builder-inited", write_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
