"""``ember.nn.utils.rnn``: packed sequences (``PackedSequence``, ``pack_padded_sequence``,
``pad_packed_sequence``, ``pad_sequence``, ``pack_sequence``...).

A plugin provides them as utils named ``"rnn.<name>"`` (e.g. ``"rnn.pad_sequence"``).
"""

from .._registry_namespace import registry_namespace

__getattr__, __dir__ = registry_namespace("util", globals(), prefix="rnn.")
