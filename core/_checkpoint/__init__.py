"""Checkpoint formats behind ``ember.save`` / ``ember.load``.

``torch_names`` pairs ember's types with the names torch's files use,
``writer`` and ``reader`` handle torch's zip format (``unpickler`` is the
restricted reader of its pickle, ``legacy`` torch's pre-1.6 format),
``placement`` applies ``map_location`` and ``safetensors_io`` the safetensors format.
"""
