"""``ember.nn.functional``: the functions registered by layer-family plugins."""

from ._registry_namespace import registry_namespace

__getattr__, __dir__ = registry_namespace("function", globals())
