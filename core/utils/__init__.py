"""``ember.utils``: helpers around training (``ember.utils.data``)."""

from . import data

__all__ = ["data"]
