"""``ember.distributions.constraints``: the sets that parameters and samples must lie in.

Each constraint's ``check(value)`` returns a boolean tensor (one entry per event) that
says where ``value`` satisfies it; the reprs are torch's, as they appear in errors.
"""

__all__ = ["Constraint", "real", "real_vector", "positive", "unit_interval", "simplex", "boolean",
           "greater_than", "less_than", "interval", "integer_interval", "independent"]


class Constraint:
    """A region of values; ``event_dim`` is how many rightmost dimensions form one event."""

    event_dim = 0

    def check(self, value):
        """A boolean tensor: True where ``value`` satisfies the constraint."""
        raise NotImplementedError

    def __repr__(self):
        return type(self).__name__.lstrip("_") + "()"


class _Real(Constraint):
    """Any real number (NaN excluded; infinities allowed, as torch does)."""

    def check(self, value):
        return value == value


class _Boolean(Constraint):
    """0 or 1."""

    def check(self, value):
        return (value == 0) | (value == 1)


class _Simplex(Constraint):
    """Non-negative vectors along the last dimension that sum to 1."""

    event_dim = 1

    def check(self, value):
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _Bounded(Constraint):
    """Shared repr of the constraints with bounds: ``Name(lower_bound=..., upper_bound=...)``."""

    _bounds = ()

    def __repr__(self):
        inner = ", ".join(f"{name}={getattr(self, name)}" for name in self._bounds)
        return f"{type(self).__name__.lstrip('_')}({inner})"


class _GreaterThan(_Bounded):
    """Values strictly above ``lower_bound``."""

    _bounds = ("lower_bound",)

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return value > self.lower_bound


class _LessThan(_Bounded):
    """Values strictly below ``upper_bound``."""

    _bounds = ("upper_bound",)

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return value < self.upper_bound


class _Interval(_Bounded):
    """Values in the closed interval ``[lower_bound, upper_bound]``."""

    _bounds = ("lower_bound", "upper_bound")

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound

    def check(self, value):
        return (self.lower_bound <= value) & (value <= self.upper_bound)


class _IntegerInterval(_Interval):
    """Whole numbers in ``[lower_bound, upper_bound]``."""

    def check(self, value):
        return (value % 1 == 0) & super().check(value)


class _IndependentConstraint(Constraint):
    """``base`` on every element, taken together over ``reinterpreted_batch_ndims``
    rightmost dimensions (one answer per vector)."""

    def __init__(self, base, reinterpreted_batch_ndims):
        self.base = base
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        self.event_dim = base.event_dim + reinterpreted_batch_ndims

    def check(self, value):
        ok = self.base.check(value)
        for _ in range(self.reinterpreted_batch_ndims):
            ok = ok.all(-1)
        return ok

    def __repr__(self):
        return f"IndependentConstraint({self.base!r}, {self.reinterpreted_batch_ndims})"


independent = _IndependentConstraint
real = _Real()
real_vector = independent(real, 1)
boolean = _Boolean()
simplex = _Simplex()
positive = _GreaterThan(0.0)
unit_interval = _Interval(0.0, 1.0)
greater_than = _GreaterThan
less_than = _LessThan
interval = _Interval
integer_interval = _IntegerInterval
