"""The random source of the samplers and of ``random_split``."""

from ..._generator import numpy_source
from ...backend import REGISTRY


def numpy_generator(generator):
    """The NumPy-API generator to draw from: an ``ember.Generator``'s, a NumPy
    ``Generator`` itself, or with None ember's CPU generator (the one
    ``ember.manual_seed`` seeds), fetched now so that a reseed counts."""
    return numpy_source(generator, REGISTRY.get("cpu"), None)
