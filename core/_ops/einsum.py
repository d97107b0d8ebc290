"""``einsum`` with torch's equation syntax.

Each operand is first brought to a canonical form with differentiable ops:
repeated subscripts become diagonals, subscripts found nowhere else are summed
out, and size-1 dims are expanded to the size the others give. What is left is
one contraction in which every subscript appears in at least two places (two
operands, or an operand and the output). Its gradient for one operand is the
contraction of the output gradient with the other operands, which has the same
property, so derivatives of any order are einsums again.
"""

import string

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import Node
from .common import _make, cast, needs_grad, record
from .shape import permute

_LETTERS = frozenset(string.ascii_letters)


def einsum(equation, *operands):
    """Sum of products of the operands' elements, as described by ``equation``.

    ``"ij,jk->ik"`` names each operand's dims by letters; letters shared by operands
    are multiplied along, letters missing from the output (after ``->``) are summed
    over. ``...`` stands for dims not named (broadcast across operands); a letter
    repeated in one operand takes its diagonal. Without ``->`` the output has the
    ``...`` dims, then the letters that occur once, in alphabetical order. The
    operands may be given as separate arguments or as one list.

    Examples::

        >>> a, b = ember.ones(2, 3), ember.ones(3, 4)
        >>> ember.einsum("ij,jk->ik", a, b).shape
        ember.Size([2, 4])
        >>> ember.einsum("ii", ember.eye(3))
        tensor(3.)
    """
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' (position 1) must be str, not {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum(): must specify the equation string and at least one operand")
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got {type(t).__name__}")
    terms, output, sizes = _parse(equation, operands)
    dt = _dtype.result_type(*operands)
    if dt.category == 0 and len(operands) > 1:
        raise NotImplementedError("\"einsum\" not implemented for 'Bool'")
    operands = [_canonical(cast(t, dt), term, terms, output, sizes) for t, term in zip(operands, terms)]
    if len(operands) == 1:
        x, term = operands[0]
        return permute(x, tuple(term.index(c) for c in output))
    return _contract([x for x, _ in operands], ["".join(term) for _, term in operands], "".join(output))


# ----------------------------------------------------------------- parsing
def _parse(equation, operands):
    """Each operand's subscripts (``...`` replaced by letters of its own), the output's,
    and the size of each subscript, with torch's checks and messages."""
    lhs, arrow, rhs = equation.partition("->")
    starts, texts, at = [], lhs.split(","), 0
    for text in texts:
        starts.append(at)
        at += len(text) + 1
    if len(texts) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(texts) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    terms = [_subscripts(text, start, f"operand {i}") for i, (text, start) in enumerate(zip(texts, starts))]
    for i, (term, t) in enumerate(zip(terms, operands)):
        named, ndim = sum(c is not None for c in term), t._data.ndim
        if None not in term and named != ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({named}) does not match the number "
                f"of dimensions ({ndim}) for operand {i} and no ellipsis was given")
        if named > ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({named}) is more than the number "
                f"of dimensions ({ndim}) for operand {i}")
    spans = [t._data.ndim - sum(c is not None for c in term) if None in term else 0
             for term, t in zip(terms, operands)]
    free = [c for c in string.ascii_letters if c not in equation]
    if max(spans) > len(free):
        raise RuntimeError("einsum(): the equation and its ellipsis dims need more than 52 subscripts")
    ellipsis = free[:max(spans)]
    terms = [_fill_ellipsis(term, ellipsis[len(ellipsis) - span:]) for term, span in zip(terms, spans)]
    sizes = _sizes(terms, operands, set(ellipsis))
    if arrow:
        output = _subscripts(rhs, len(lhs) + 2, "output")
        for i, c in enumerate(output):
            if c is not None and not any(c in term for term in terms):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any "
                                   "input operand")
            if c is not None and c in output[:i]:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
        output = _fill_ellipsis(output, ellipsis)
    else:
        named = [c for term in terms for c in term if c not in ellipsis]
        output = ellipsis + sorted(c for c in set(named) if named.count(c) == 1)
    return terms, output, sizes


def _subscripts(text, start, who):
    """The letters of one term, ``None`` standing for its ellipsis."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == ".":
            if None in out:
                raise RuntimeError(f"einsum(): found '.' for {who} for which an ellipsis was already found")
            if text[i:i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for {who} that is not part of any ellipsis")
            out.append(None)
            i += 3
            continue
        if c in _LETTERS:
            out.append(c)
        elif c != " ":
            raise RuntimeError(f"einsum(): invalid subscript given at index {start + i} in the equation "
                               "string, subscripts must be in [a-zA-Z]")
        i += 1
    return out


def _fill_ellipsis(term, letters):
    if None not in term:
        return term
    at = term.index(None)
    return term[:at] + list(letters) + term[at + 1:]


def _sizes(terms, operands, ellipsis):
    sizes = {}
    for i, (term, t) in enumerate(zip(terms, operands)):
        own = {}
        for c, n in zip(term, t._data.shape):
            if c in own and own[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {i} but the sizes don't "
                                   f"match, {own[c]} != {n}")
            own[c] = n
        for c, n in own.items():
            seen = sizes.get(c, 1)
            if n != seen and n != 1 and seen != 1:
                if c in ellipsis:
                    raise RuntimeError(f"einsum(): a dimension covered by ellipsis in operand {i} has size {n} "
                                       f"which does not broadcast with previously seen size {seen}")
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which does not "
                                   f"broadcast with previously seen size {seen}")
            sizes[c] = n if seen == 1 else seen
    return sizes


# ----------------------------------------------------------------- canonical operands
def _canonical(x, term, terms, output, sizes):
    """``x`` with distinct subscripts, each shared with another operand or the output,
    expanded to the common sizes: ``(tensor, subscripts)``."""
    from .matrix import diagonal  # matrix.py exports einsum: imported here, not at the top

    term = list(term)
    for c in string.ascii_letters:
        while term.count(c) > 1:
            p = term.index(c)
            q = term.index(c, p + 1)
            x = diagonal(x, 0, p, q)
            term = [s for j, s in enumerate(term) if j != p and j != q] + [c]
    users = [c for other in terms for c in set(other)]
    lonely = [j for j, c in enumerate(term) if c not in output and users.count(c) == 1]
    if lonely:
        x = x.sum(lonely)
        term = [c for j, c in enumerate(term) if j not in lonely]
    target = tuple(sizes[c] for c in term)
    if target != x._data.shape:
        x = x.expand(target)
    return x, term


# ----------------------------------------------------------------- the contraction
class EinsumBackward0(Node):
    """Gradient of a contraction: for each operand, the output gradient contracted with
    the other operands onto that operand's subscripts."""

    def backward(self, g):
        tensors = self.saved()
        grads = []
        for i, needed in enumerate(self.needs):
            others = [t for j, t in enumerate(tensors) if j != i]
            terms = [s for j, s in enumerate(self.terms) if j != i]
            grads.append(_contract([g] + others, [self.output] + terms, self.terms[i]) if needed else None)
        return tuple(grads)


def _contract(tensors, terms, output):
    be = tensors[0]._be
    data = be.xp.einsum(",".join(terms) + "->" + output, *[t._data for t in tensors], optimize=True)
    if needs_grad(*tensors):
        node = EinsumBackward0()
        node.terms, node.output = terms, output
        node.needs = [t._rg for t in tensors]
        node.save(*tensors)
        return record(node, data, be, tensors)
    return _make(data, be)
