"""``ember.nn.utils``: helpers registered by plugins (gradient clipping, parameter
vectors, weight norm, packed sequences, ...)."""

from ._registry_namespace import registry_namespace

__getattr__, __dir__ = registry_namespace("util", globals())
