"""The cuda backend's kernels of the activation family: each formula of
``formulas.py`` traced into one CuPy element-wise kernel forward
(``ember_<name>``) and one backward (``ember_<name>_backward``), where the
generic kernels launch one kernel per step (up to a dozen for gelu's backward).

Tracing runs the formula on :class:`_Value` objects, which record every step as a
local variable of the kernel body (``T v3 = exp(v2);``) instead of computing it.
Python numbers become constants of the arrays' type ``T``; the parameters become
kernel arguments of type ``T``. ``where`` is C's conditional and ``minimum(a, c)``
is ``a > c ? c : a``, so a NaN ``a`` stays NaN, as in NumPy.
"""

from ember.backends.cuda.kernels import elementwise, on_device, same_floats

from .formulas import FORMULAS
from .kernels import op_names


def _code(value):
    """C for an operand: a traced value's variable, or a Python number as a ``T``."""
    return value.name if isinstance(value, _Value) else f"T({float(value)!r})"


class _Value:
    """A traced value: a local variable ``name`` of C type ``ctype`` in the kernel body
    ``lines``, which every operation on it extends."""

    def __init__(self, lines, name, ctype="T"):
        self.lines, self.name, self.ctype = lines, name, ctype

    def emit(self, expression, ctype="T"):
        """A new variable of the body holding ``expression``."""
        name = f"v{len(self.lines)}"
        self.lines.append(f"{ctype} {name} = {expression};")
        return _Value(self.lines, name, ctype)

    def _binary(self, op, other, ctype="T"):
        return self.emit(f"{self.name} {op} {_code(other)}", ctype)

    def _reflected(self, op, other):
        return self.emit(f"{_code(other)} {op} {self.name}")

    def __add__(self, other):
        return self._binary("+", other)

    def __radd__(self, other):
        return self._reflected("+", other)

    def __sub__(self, other):
        return self._binary("-", other)

    def __rsub__(self, other):
        return self._reflected("-", other)

    def __mul__(self, other):
        return self._binary("*", other)

    def __rmul__(self, other):
        return self._reflected("*", other)

    def __truediv__(self, other):
        return self._binary("/", other)

    def __rtruediv__(self, other):
        return self._reflected("/", other)

    def __neg__(self):
        return self.emit(f"-{self.name}")

    def __lt__(self, other):
        return self._binary("<", other, "bool")

    def __le__(self, other):
        return self._binary("<=", other, "bool")

    def __gt__(self, other):
        return self._binary(">", other, "bool")

    def __ge__(self, other):
        return self._binary(">=", other, "bool")

    def __and__(self, other):
        return self._binary("&&", other, "bool")

    def __or__(self, other):
        return self._binary("||", other, "bool")


class _CudaMath:
    """The formulas' math namespace while tracing: CUDA's math functions."""

    @staticmethod
    def _call(fn, a):
        return a.emit(f"{fn}({a.name})")

    def exp(self, a):
        return self._call("exp", a)

    def expm1(self, a):
        return self._call("expm1", a)

    def log1p(self, a):
        return self._call("log1p", a)

    def tanh(self, a):
        return self._call("tanh", a)

    def erf(self, a):
        return self._call("erf", a)

    def abs(self, a):
        return self._call("fabs", a)

    def sigmoid(self, a):
        # exp of -|a| only: no overflow, as the core's sigmoid kernels
        e = a.emit(f"exp(-fabs({a.name}))")
        return a.emit(f"{a.name} >= T(0) ? T(1) / (T(1) + {e.name}) : {e.name} / (T(1) + {e.name})")

    def sigmoid_backward(self, a, s):
        return a * s * (1 - s)

    def minimum(self, a, c):
        return a.emit(f"{a.name} > {_code(c)} ? {_code(c)} : {a.name}")

    def where(self, cond, a, b):
        return cond.emit(f"{cond.name} ? {_code(a)} : {_code(b)}")


def body(fn, operands, params):
    """The kernel body computing ``fn`` of the named ``operands`` and ``params`` into ``y``."""
    lines = []
    result = fn(_CudaMath(), *[_Value(lines, name) for name in operands + params])
    return "\n".join(lines + [f"y = {result.name};"])


def _factory(name, fn, operands, params):
    """The kernel factory of formula ``fn``: traced when the op first runs."""

    def build(xp):
        ins = ", ".join(f"T {p}" for p in operands + params)
        return elementwise(xp, (ins, "T y"), body(fn, operands, params), name)

    return build


def _keeping_nothing(name, formula):
    """The forward and backward factories of a formula with a ``kept`` intermediate: the
    forward gives ``(y, None)`` and the backward recomputes it (see ``kernels.py``)."""
    forward = _factory(name, formula.whole_forward, ("x",), formula.params)
    backward = _factory(name + "_backward", formula.whole_backward, ("g", "x"), formula.params)

    def build_forward(xp):
        run = forward(xp)
        return lambda x, *params: (run(x, *params), None)

    def build_backward(xp):
        run = backward(xp)
        return lambda g, x, kept, *params: run(g, x, *params)

    return build_forward, build_backward


def _kernels():
    table = {}
    for name, formula in FORMULAS.items():
        if formula.kept is None:
            pair = (_factory(name, formula.forward, ("x",), formula.params),
                    _factory(name + "_backward", formula.backward, ("g", "x"), formula.params))
        else:
            pair = _keeping_nothing(name, formula)
        table.update({op: on_device(make, accepts=same_floats) for op, make in zip(op_names(name), pair)})
    return table


#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = _kernels()
