"""The globals a user marks safe for weights-only loading (``ember.serialization``'s
``add_safe_globals`` and friends, as torch 2.13 has them).

A weights-only ``ember.load`` resolves the names of its own table and, in
addition, the names of these globals: a marked class may then be created
(``NEWOBJ``, or a call), have its state restored (``BUILD``), and a marked
function may be called, with arguments read from the file. Nothing is marked
until the user marks it.
"""

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals"]

_marked = set()


def _checked(items):
    """``items`` as a list after checking each is a global or a (global, name) pair."""
    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        raise TypeError(f"safe globals must be given as a list, got {type(items).__name__}")
    items = list(items)
    for item in items:
        if isinstance(item, tuple):
            if len(item) != 2:
                raise ValueError("Expected tuple of length 2 (global, str of callable full path), but got tuple "
                                 f"of length: {len(item)}")
            if type(item[1]) is not str:
                raise TypeError("Expected second item in tuple to be str of callable full path, but got: "
                                f"{type(item[1])}")
        elif not callable(item) or not hasattr(item, "__qualname__"):
            raise TypeError(f"a safe global must be a class or a function (or a (global, 'module.name') "
                            f"pair), got {item!r}")
    return items


def add_safe_globals(safe_globals):
    """Mark ``safe_globals`` as safe for weights-only :func:`ember.load`: their names
    in a checkpoint resolve to them, so the file may create and fill instances of
    these classes and call these functions.

    Args:
        safe_globals: a list of classes and functions, or of ``(global, name)``
            pairs where the file names the global ``name``
            (``'module.QualifiedName'``) rather than its own
            ``f'{__module__}.{__qualname__}'``.

    Examples::

        >>> class Config:
        ...     pass
        >>> ember.serialization.add_safe_globals([Config])
        >>> Config in ember.serialization.get_safe_globals()
        True
        >>> ember.serialization.clear_safe_globals()
    """
    _marked.update(_checked(safe_globals))


def get_safe_globals():
    """The globals marked safe with :func:`add_safe_globals`, as a list."""
    return list(_marked)


def clear_safe_globals():
    """Unmark every global marked safe with :func:`add_safe_globals`."""
    _marked.clear()


class safe_globals:
    """Context manager: ``safe_globals`` are marked safe (as by :func:`add_safe_globals`)
    inside the block; on leaving it, those that were not marked before are unmarked.

    Examples::

        >>> class Config:
        ...     pass
        >>> with ember.serialization.safe_globals([Config]):
        ...     Config in ember.serialization.get_safe_globals()
        True
        >>> Config in ember.serialization.get_safe_globals()
        False
    """

    def __init__(self, safe_globals):
        self.safe_globals = _checked(safe_globals)
        self._added = ()

    def __enter__(self):
        self._added = [g for g in self.safe_globals if g not in _marked]
        _marked.update(self._added)

    def __exit__(self, *exc_info):
        _marked.difference_update(self._added)


def by_name():
    """``{'module.name': global}`` for the marked globals, as a file names them."""
    names = {}
    for item in _marked:
        glob, name = item if isinstance(item, tuple) else (item, f"{item.__module__}.{item.__qualname__}")
        names[name] = glob
    return names
