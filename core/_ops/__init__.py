"""The core tensor ops: each module holds one kind, with its backward nodes.

The modules named in ``API_MODULES`` publish their public names as data:
``FUNCTIONS`` (name -> callable, exported as ``ember.<name>``) and ``METHODS``
(name -> callable taking the tensor first, installed as ``Tensor.<name>``;
in-place variants are listed there under their ``*_`` names).
"""

API_MODULES = ("sorting", "counting", "special", "matrix", "decompositions", "index_write", "compare")


def api_modules():
    """The imported ``API_MODULES``, in order."""
    from importlib import import_module

    return [import_module(f"{__name__}.{name}") for name in API_MODULES]
