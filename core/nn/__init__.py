"""``ember.nn``: Module and Parameter from the core, every layer from the plugins.

Layer classes (``ember.nn.Linear``, ``ember.nn.Conv2d``, ...) are registered by
layer-family plugins and served from the plugin registry.
"""

from . import functional, init, parallel, utils
from ._registry_namespace import registry_namespace
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .module import Module
from .parameter import Parameter
from . import modules  # torch's paths: ember.nn.modules.loss._Loss, ...

__getattr__, __dir__ = registry_namespace("module", globals())
