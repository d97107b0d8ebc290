"""Sphinx configuration for ember's documentation.

``api.rst`` (the reference of every layer, functional and utility) is written at
build time from the plugin registry, so it lists exactly what the installed
plugins provide, family by family.
"""

from pathlib import Path

project = "ember"
author = "ember developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.doctest"]
exclude_patterns = ["_build"]
html_theme = "alabaster"

_KINDS = (("module", "ember.nn"), ("function", "ember.nn.functional"), ("util", "ember.nn.utils"))


def _write_api_page(app):
    import ember
    from ember._plugins import MANAGER

    families = {}
    for (kind, name), family in sorted(MANAGER.owner.items()):
        if kind in dict(_KINDS):
            families.setdefault(family, []).append((kind, name))
    lines = ["API reference", "=============", "",
             f"Everything below is registered by ember {ember.__version__}'s built-in plugins "
             "(``python -m ember`` lists them with their kernels).", ""]
    for family, entries in sorted(families.items()):
        lines += [family, "-" * len(family), ""]
        for kind, namespace in _KINDS:
            for k, name in entries:
                if k == kind:
                    target = f"{namespace}.rnn.{name[4:]}" if name.startswith("rnn.") else f"{namespace}.{name}"
                    directive = "autoclass" if isinstance(MANAGER.tables[kind][name], type) else "autofunction"
                    lines += [f".. {directive}:: {target}", ""]
    Path(app.srcdir, "api.rst").write_text("\n".join(lines), encoding="utf-8")


def setup(app):
    app.connect("builder-inited", _write_api_page)
