"""``ember.nn.modules``: torch's module paths, for scripts that import or subclass
layers from there (``from ember.nn.modules.loss import _Loss``,
``ember.nn.modules.conv.Conv2d``).

Each submodule (``loss``, ``conv``, ``rnn``...) is built from the table in
``_layout`` and serves the very classes that ``ember.nn`` serves: the plugins'
own classes, looked up when asked, so a disabled plugin's names disappear from
here too, with an error that names the plugin. ``ember.nn.modules.Linear`` and
the other layer names work at the package level as well.
"""

import sys
import types
from importlib.machinery import ModuleSpec

from .._registry_namespace import registry_namespace
from ..containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from ..module import Module
from ._layout import BASES, LAYERS, core_names


def _new_submodule(short, doc):
    fullname = f"{__name__}.{short}"
    mod = types.ModuleType(fullname, doc)
    mod.__spec__ = ModuleSpec(fullname, loader=None)
    mod.__package__ = __name__
    sys.modules[fullname] = mod
    globals()[short] = mod
    return mod


def _serve_layers(mod, names, bases):
    """Give ``mod`` a ``__getattr__``/``__dir__`` serving ``names`` from the registry and
    ``bases`` (private name -> public class holding it) from those classes' bases."""
    from ..._plugins import MANAGER

    where = mod.__name__

    def missing(name, detail=""):
        return AttributeError(f"module '{where}' has no attribute '{name}'{detail}")

    def lookup(name):
        anchor = bases.get(name, name)
        cls = MANAGER.tables["module"].get(anchor)
        if cls is None:
            provider = MANAGER.provider_of("module", anchor)
            if provider is None:
                raise missing(name)
            raise missing(name, f": it is provided by plugin '{provider}', which is disabled "
                                f"(ember.plugins.enable('{provider}'))")
        if anchor == name:
            return cls
        for base in cls.__mro__:
            if base.__name__ == name:
                return base
        raise missing(name, f": ember's {anchor} has no base class of that name")

    def available():
        table = MANAGER.tables["module"]
        return [n for n in names if n in table], [n for n, a in bases.items() if a in table]

    def __getattr__(name):
        if name == "__all__":
            return available()[0]
        if name not in names and name not in bases:
            raise missing(name)
        return lookup(name)

    def __dir__():
        public, private = available()
        return sorted(set(vars(mod)) | set(public) | set(private))

    mod.__getattr__ = __getattr__
    mod.__dir__ = __dir__


for _short, _names in LAYERS.items():
    _serve_layers(_new_submodule(_short, f"torch.nn.modules.{_short} names, served by ember's plugins."),
                  _names, BASES.get(_short, {}))

for _short, _contents in core_names().items():
    _new_submodule(_short, f"torch.nn.modules.{_short} names, from ember's core.").__dict__.update(_contents)

del _short, _names, _contents

__getattr__, __dir__ = registry_namespace("module", globals())
