"""The random source of the samplers and of ``random_split``."""

import numpy as np


def numpy_generator(generator):
    """``generator`` itself when it is a NumPy ``Generator``; with None, ember's CPU
    generator (the one ``ember.manual_seed`` seeds), fetched now so a reseed counts."""
    if generator is None:
        from ...backend import REGISTRY

        return REGISTRY.get("cpu").generator(None)
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be None (ember's generator) or a numpy.random.Generator, "
                    f"but got {type(generator).__name__}")
