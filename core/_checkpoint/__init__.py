"""Checkpoint formats behind ``ember.save`` / ``ember.load``.

``writer`` and ``reader`` handle torch's zip format, ``unpickler`` is the
restricted reader of its pickle, ``torch_names`` pairs ember's types with the
names torch's files use, ``placement`` applies ``map_location`` and
``safetensors_io`` handles the safetensors format.
"""
