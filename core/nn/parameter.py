"""``ember.nn.Parameter``: a tensor that a Module registers as one of its parameters."""

from .._tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that, assigned as a Module attribute, joins ``parameters()``.

    Args:
        data: the initial values (shared, not copied).
        requires_grad: whether it is trained (default True).
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from .._creation import empty

            data = empty(0)
        p = object.__new__(cls)
        p._data = data._data
        p._be = data._be
        p._rg = False
        p.grad = None
        p.grad_fn = None
        p._vc = data._version_box()
        p._extra = None
        p.requires_grad_(requires_grad)
        return p

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self._rg))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(Tensor.__deepcopy__(self.detach(), {}), self._rg)
        memo[id(self)] = p
        return p


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)
