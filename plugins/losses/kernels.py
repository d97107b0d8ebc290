"""The losses family's kernels: the generic (array-namespace) ones, the CuPy
RawKernels of the cuda backend (``cuda.py``), and the family's kernel table.

Class-index losses (``nll.py``) see their input as ``x`` of shape ``(N, C, S)``
(batch, classes, the spatial positions flattened; ``S = 1`` without them) and the
int64 targets ``t`` as ``(N, S)``. A target is *counted* when it is in ``[0, C)``
and not ``ignore_index``; any other target contributes neither loss nor gradient
(the family checks the range beforehand, on the device, see ``nll.check_targets``).

* ``losses.class_index_loss(x, t, weight, ignore_index, label_smoothing, normalize)
  -> (loss, target_weight)``, both ``(N, S)`` of ``x``'s dtype: with ``normalize``
  the scores ``x`` are log-softmaxed over the classes first (cross entropy),
  without it they are log-probabilities already (NLL). With ``lp`` the
  log-probabilities and ``w`` the class weights (ones when ``weight`` is None),
  a counted target ``k`` gives
  ``(1 - ls) * (-w[k] * lp[k]) + ls / C * (-sum_c w[c] * lp[c])`` and
  ``target_weight = w[k]``; the others 0.
* ``losses.class_index_loss_backward(x, t, weight, ignore_index, label_smoothing,
  normalize, scale) -> grad``, ``(N, C, S)``: the gradient of
  ``sum(scale * loss)`` with respect to ``x``, ``scale`` being ``(N, S)``, or 0-d
  (one factor for every sample: a reduced loss's gradient). With
  ``a = scale * (1 - ls) * w[k]`` and ``b = scale * ls / C``, the gradient with
  respect to ``lp`` is ``-a`` at ``k`` less ``b * w[c]``; through the log-softmax,
  ``softmax(x)[c] * (a + b * sum(w))`` is added to it.
* ``losses.class_index_mean(loss, target_weight, t, ignore_index) -> (mean, scale)``,
  0-d: the mean reduction, ``sum(loss) / sum(target_weight)`` and ``scale`` the
  gradient's factor ``1 / sum(target_weight)``; when every target is
  ``ignore_index``, NaN and a scale of 1 (a zero gradient, as torch's).

CTC (``ctc.py``), on ``log_probs`` ``(T, N, C)`` and the int64 ``targets``,
``offsets``, ``input_lengths`` and ``target_lengths`` laid out as ``_ctc.pyx``
describes:

* ``losses.ctc_forward(log_probs, targets, offsets, input_lengths, target_lengths,
  blank, width) -> (log_alpha, nll)``: the alpha recursion, ``log_alpha``
  ``(N, T, width)`` with ``width = 2 * max(target_lengths) + 1``, ``nll`` ``(N)``;
* ``losses.ctc_backward(grad_out, log_probs, targets, offsets, input_lengths,
  target_lengths, blank, log_alpha, nll, zero_infinity) -> grad`` ``(T, N, C)``.

The cpu backend runs the Cython kernels of ``_ctc.pyx``; the generic kernels run
them too, on a copy of the arrays in host memory; the cuda backend has its own
(``cuda.py``).
"""

import numpy as np

from ember import kernels


def counted_targets(xp, t, ignore_index, n_classes):
    """``(counted mask, targets with 0 where not counted)``."""
    counted = (t != ignore_index) & (t >= 0) & (t < n_classes)
    return counted, xp.where(counted, t, 0)


def target_weights(xp, weight, safe, counted, dtype):
    """Each target's class weight (1 without ``weight``), 0 where it is not counted."""
    if weight is None:
        return counted.astype(dtype)
    return xp.where(counted, weight[safe], 0).astype(dtype, copy=False)


def _at_targets(xp, safe):
    """The index of each sample's target score in an ``(N, C, S)`` array, ``safe``
    the ``(N, S)`` targets: one element per sample, so ``-=`` through it is exact."""
    n, s = safe.shape
    return xp.arange(n)[:, None], safe, xp.arange(s)[None, :]


def _log_softmax(xp, x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))


def _class_weights(weight):
    """Class weights as ``(1, C, 1)`` (or the scalar 1 without weights)."""
    return 1 if weight is None else weight.reshape(1, -1, 1)


def _class_index_loss(xp):
    def class_index_loss(x, t, weight, ignore_index, label_smoothing, normalize):
        n_classes = x.shape[1]
        counted, safe = counted_targets(xp, t, ignore_index, n_classes)
        lp = _log_softmax(xp, x) if normalize else x
        wt = target_weights(xp, weight, safe, counted, x.dtype)
        loss = -lp[_at_targets(xp, safe)] * wt
        if label_smoothing > 0:
            smooth = -(lp * _class_weights(weight)).sum(axis=1)
            loss = loss * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)
        # where(), not a product: an ignored target's -inf score must not give NaN
        return xp.where(counted, loss, 0).astype(x.dtype, copy=False), wt
    return class_index_loss


def _class_index_loss_backward(xp):
    def class_index_loss_backward(x, t, weight, ignore_index, label_smoothing, normalize, scale):
        n_classes = x.shape[1]
        counted, safe = counted_targets(xp, t, ignore_index, n_classes)
        wt = target_weights(xp, weight, safe, counted, x.dtype)
        if label_smoothing > 0:
            a = scale * (1 - label_smoothing) * wt
            b = xp.where(counted, scale * (label_smoothing / n_classes), 0).astype(x.dtype, copy=False)
            grad = xp.broadcast_to(-(b[:, None, :] * _class_weights(weight)), x.shape).astype(x.dtype)
        else:
            a, b = scale * wt, 0
            grad = xp.zeros(x.shape, dtype=x.dtype)
        grad[_at_targets(xp, safe)] -= a
        if normalize:
            total = n_classes if weight is None else weight.sum()
            shifted = x - x.max(axis=1, keepdims=True)
            e = xp.exp(shifted)
            p = e / e.sum(axis=1, keepdims=True)
            grad = grad + p * (a + b * total)[:, None, :]
        return grad.astype(x.dtype, copy=False)
    return class_index_loss_backward


def _class_index_mean(xp):
    def class_index_mean(loss, target_weight, t, ignore_index):
        some = (t != ignore_index).any()
        total = xp.where(some, target_weight.sum(), 1)
        return xp.where(some, loss.sum() / total, xp.nan), 1 / total
    return class_index_mean


def _ctc_forward(log_probs, targets, offsets, input_lengths, target_lengths, blank, width):
    from . import _ctc

    steps, n = log_probs.shape[:2]
    log_alpha = np.empty((n, steps, width), dtype=log_probs.dtype)
    nll = np.empty(n, dtype=log_probs.dtype)
    _ctc.ctc_forward(np.ascontiguousarray(log_probs), targets, offsets, input_lengths, target_lengths, blank,
                     log_alpha, nll)
    return log_alpha, nll


def _ctc_backward(grad_out, log_probs, targets, offsets, input_lengths, target_lengths, blank, log_alpha,
                  nll, zero_infinity):
    from . import _ctc

    grad = np.empty(log_probs.shape, dtype=log_probs.dtype)
    _ctc.ctc_backward(np.ascontiguousarray(grad_out), np.ascontiguousarray(log_probs), targets, offsets,
                      input_lengths, target_lengths, blank, log_alpha, nll, zero_infinity, grad)
    return grad


def _on_the_host(xp, fn):
    """``fn`` (of NumPy arrays) for arrays of ``xp``: its array arguments are copied
    to the host and its results back (a round trip on a GPU)."""
    to_host = getattr(xp, "asnumpy", np.asarray)

    def run(*args):
        found = fn(*[to_host(a) if hasattr(a, "dtype") and a.ndim else a for a in args])
        return tuple(xp.asarray(r) for r in found) if isinstance(found, tuple) else xp.asarray(found)

    run.__name__ = fn.__name__
    return run


GENERIC_KERNELS = {
    "losses.class_index_loss": _class_index_loss,
    "losses.class_index_loss_backward": _class_index_loss_backward,
    "losses.class_index_mean": _class_index_mean,
    "losses.ctc_forward": lambda xp: _on_the_host(xp, _ctc_forward),
    "losses.ctc_backward": lambda xp: _on_the_host(xp, _ctc_backward),
}


def table():
    """``(op, backend) -> kernel`` for ``ember_register_kernels``."""
    from . import cuda  # CuPy kernel factories: nothing is built before a cuda op runs

    return kernels.table(GENERIC_KERNELS, cuda=cuda.KERNELS,
                         cpu={"losses.ctc_forward": _ctc_forward, "losses.ctc_backward": _ctc_backward})
