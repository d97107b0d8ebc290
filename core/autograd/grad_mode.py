"""Switches for gradient recording: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

The flag is process-wide (not per thread): ember's parallel code runs replicas in
threads that must see the caller's mode, which a process-wide flag gives for free.
"""

import functools


class _Mode:
    __slots__ = ("enabled",)

    def __init__(self):
        self.enabled = True


MODE = _Mode()


def is_grad_enabled():
    """True when operations on tensors that require grad are recorded for backward."""
    return MODE.enabled


class _GradModeContext:
    """Base of the grad-mode switches: a context manager that also decorates functions."""

    _target = True

    def __enter__(self):
        self._prev = MODE.enabled
        MODE.enabled = self._target

    def __exit__(self, *exc):
        MODE.enabled = self._prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Context manager and decorator that turns gradient recording off.

    Results computed inside have ``requires_grad=False`` even when their inputs
    require grad; use it for inference and parameter updates.
    """

    _target = False


class enable_grad(_GradModeContext):
    """Context manager and decorator that turns gradient recording on (inside ``no_grad``)."""

    _target = True


class set_grad_enabled(_GradModeContext):
    """Set gradient recording on or off: as a call, a context manager or a decorator.

    Args:
        mode (bool): whether to record.
    """

    def __init__(self, mode):
        self._prev = MODE.enabled
        self._target = bool(mode)
        MODE.enabled = self._target

    def __enter__(self):
        pass

    def __call__(self, func):
        MODE.enabled = self._prev
        target = self._target

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(target):
                return func(*args, **kwargs)

        return wrapper
