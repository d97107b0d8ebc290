"""``ember.nn.utils``: helpers registered by plugins (gradient clipping, parameter
vectors, weight norm, ...); ``ember.nn.utils.rnn`` serves the packed-sequence helpers."""

from .._registry_namespace import registry_namespace
from . import rnn

__getattr__, __dir__ = registry_namespace("util", globals())
