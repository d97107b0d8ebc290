"""Switches for gradient recording: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

The flag belongs to each thread, as torch's: a new thread starts with recording on,
and a switch in one thread leaves the others alone (``parallel_apply`` hands the
caller's mode to its worker threads).
"""

import functools
import inspect
import sys
import threading


class _Mode(threading.local):
    def __init__(self):
        self.enabled = True


MODE = _Mode()


def is_grad_enabled():
    """True when operations on tensors that require grad are recorded for backward."""
    return MODE.enabled


class _GradModeContext:
    """Base of the grad-mode switches: a context manager that also decorates functions
    (generator functions get the mode around each resumption, as in torch)."""

    _target = True

    def __enter__(self):
        self._prev = MODE.enabled
        MODE.enabled = self._target

    def __exit__(self, *exc):
        MODE.enabled = self._prev
        return False

    def clone(self):
        """A fresh switch of the same kind (a context manager can't be re-entered safely)."""
        return self.__class__()

    def __call__(self, func):
        make = self.clone
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(make, func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with make():
                return func(*args, **kwargs)

        return wrapper


def _wrap_generator(make, func):
    @functools.wraps(func)
    def generator(*args, **kwargs):
        gen = func(*args, **kwargs)
        try:
            with make():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with make():
                        gen.close()
                    raise
                except BaseException:
                    with make():
                        response = gen.throw(*sys.exc_info())
                else:
                    with make():
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value

    return generator


class _BareDecorator(_GradModeContext):
    """A switch usable as ``@no_grad`` as well as ``@no_grad()``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_BareDecorator):
    """Context manager and decorator that turns gradient recording off.

    Results computed inside have ``requires_grad=False`` even when their inputs
    require grad; use it for inference and parameter updates.

    Examples::

        >>> x = ember.ones(2, requires_grad=True)
        >>> with ember.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    _target = False


class enable_grad(_BareDecorator):
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

    def clone(self):
        return set_grad_enabled(self._target)

    def __call__(self, func):
        # Used as a decorator: construction switched the mode, which only the
        # decorated function should see.
        MODE.enabled = self._prev
        return super().__call__(func)
