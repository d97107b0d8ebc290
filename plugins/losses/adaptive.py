"""``nn.AdaptiveLogSoftmaxWithLoss``: the adaptive softmax of Grave et al. (2016).

Built from the public ``ember.nn.Linear``/``Sequential``/``ModuleList`` with
PyTorch's structure, so parameter names (``head.weight``, ``tail.0.0.weight``,
...) and state dicts are interchangeable with PyTorch's.
"""

from collections import namedtuple

import numpy as np

import ember

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])
_ASMoutput.__doc__ = """Result of ``AdaptiveLogSoftmaxWithLoss.forward``: ``output`` holds the
log-probability of each example's target, ``loss`` the mean negative of it."""


class AdaptiveLogSoftmaxWithLoss(ember.nn.Module):
    r"""Adaptive softmax: an approximate softmax for very many classes.

    Classes are sorted by frequency and split at ``cutoffs``: the most frequent
    ones (below ``cutoffs[0]``) form the *shortlist*, scored by the ``head``
    together with one logit per remaining *cluster*; a class of cluster ``i`` is
    scored by its cluster's log-probability in the head plus its own
    log-probability within the cluster, computed by ``tail[i]``, a projection of
    the input to ``in_features // div_value ** (i + 1)`` features followed by a
    linear layer over the cluster's classes.  Rare classes thus cost less, and
    a cluster's tail only runs on the examples whose target lies in it.

    Args:
        in_features (int): number of features of the input.
        n_classes (int): number of classes.
        cutoffs (Sequence[int]): increasing, unique integers in
            ``[1, n_classes - 1]`` at which the classes are split into clusters.
        div_value (float): base of the exponent that shrinks the clusters'
            hidden sizes. Default: 4.0.
        head_bias (bool): whether the head has a bias. Default: ``False``.

    Returns:
        ``forward`` returns a named tuple ``(output, loss)``: ``output`` of
        shape :math:`(N)` is the log-probability of each target, ``loss`` the
        mean of ``-output`` (a scalar).

    Shape:
        - input: :math:`(N, \texttt{in\_features})` or :math:`(\texttt{in\_features})`
        - target: :math:`(N)` or :math:`()`, each value in ``[0, n_classes)``
        - output1: :math:`(N)` or :math:`()`
        - output2: scalar

    Examples::

        >>> asm = ember.nn.AdaptiveLogSoftmaxWithLoss(16, 20, cutoffs=[5, 12], div_value=2.0)
        >>> out = asm(ember.randn(8, 16), ember.randint(0, 20, (8,)))
        >>> out.output.shape, out.loss.shape
        (ember.Size([8]), ember.Size([]))
        >>> asm.log_prob(ember.randn(3, 16)).shape
        ember.Size([3, 20])
    """

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False,
                 device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an "
                             "increasing order, where each value is between 1 and n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters

        factory = dict(device=device, dtype=dtype)
        nn = ember.nn
        self.head = nn.Linear(in_features, self.head_size, bias=head_bias, **factory)
        self.tail = nn.ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(nn.Sequential(nn.Linear(in_features, hidden, bias=False, **factory),
                                           nn.Linear(hidden, size, bias=False, **factory)))

    def reset_parameters(self):
        """Re-initialise the head and every tail layer as ``Linear`` does."""
        self.head.reset_parameters()
        for projection, output in self.tail:
            projection.reset_parameters()
            output.reset_parameters()

    def forward(self, input, target):
        """Log-probability of each target and the mean negative log-likelihood."""
        if target.dim() == 1:
            if input.size(0) != target.size(0):
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input.dim() != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with "
                                   f"size {input.size()}")
        elif target.dim() == 0:
            if input.dim() != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with "
                                   f"size {input.size()}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target.dim() == 1
        if not batched:
            input, target = input.unsqueeze(0), target.unsqueeze(0)

        labels = target.detach().cpu().numpy().astype(np.int64, copy=False)
        if labels.size and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in "
                               f"range [{labels.min()}, {labels.max()}] were found. ")
        # cluster of each example: 0 = shortlist, i = tail[i - 1]
        cluster = np.searchsorted(np.asarray(self.cutoffs), labels, side="right")
        head_index = np.where(cluster == 0, labels, self.shortlist_size + cluster - 1)

        head_logprob = ember.nn.functional.log_softmax(self.head(input), dim=1)
        output = head_logprob.gather(1, self._index(head_index[:, None], input))
        output = output.squeeze(1)

        # within-cluster log-probabilities, computed per cluster on its rows only
        # and put back in batch order: zeros for the shortlist rows
        order = [np.flatnonzero(cluster == 0)]
        parts = [output.new_zeros(len(order[0]))]
        for i in range(1, self.n_clusters + 1):
            rows = np.flatnonzero(cluster == i)
            if rows.size == 0:
                continue
            sub = input.index_select(0, self._index(rows, input))
            logprob = ember.nn.functional.log_softmax(self.tail[i - 1](sub), dim=1)
            local = labels[rows] - self.cutoffs[i - 1]
            parts.append(logprob.gather(1, self._index(local[:, None], input)).squeeze(1))
            order.append(rows)
        if len(parts) > 1:
            inverse = np.argsort(np.concatenate(order), kind="stable")
            output = output + ember.cat(parts).index_select(0, self._index(inverse, input))
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    @staticmethod
    def _index(array, like):
        index = ember.from_numpy(np.ascontiguousarray(array, dtype=np.int64))
        return index if like.device.type == "cpu" else index.to(like.device)

    def _full_log_prob(self, input, head_output):
        head_logprob = ember.nn.functional.log_softmax(head_output, dim=1)
        pieces = [head_logprob[:, :self.shortlist_size]]
        for i, tail in enumerate(self.tail):
            cluster_logprob = ember.nn.functional.log_softmax(tail(input), dim=1)
            column = self.shortlist_size + i
            pieces.append(cluster_logprob + head_logprob[:, column:column + 1])
        return ember.cat(pieces, dim=1)

    def log_prob(self, input):
        r"""Log-probabilities of all ``n_classes`` classes.

        Args:
            input (Tensor): a minibatch of examples, :math:`(N, \texttt{in\_features})`.

        Returns:
            Tensor of shape :math:`(N, \texttt{n\_classes})`.
        """
        return self._full_log_prob(input, self.head(input))

    def predict(self, input):
        r"""The most probable class of each example, :math:`(N)`.

        Same result as ``self.log_prob(input).argmax(dim=1)``; the tails only
        run for the examples whose best head entry is a cluster.

        Args:
            input (Tensor): a minibatch of examples, :math:`(N, \texttt{in\_features})`.
        """
        head_output = self.head(input)
        best = head_output.argmax(dim=1)
        outside = best.detach().cpu().numpy() >= self.shortlist_size
        if not outside.any():
            return best
        if outside.all():
            return self._full_log_prob(input, head_output).argmax(dim=1)
        rows = self._index(np.flatnonzero(outside), input)
        full = self._full_log_prob(input.index_select(0, rows), head_output.index_select(0, rows))
        result = best.detach().cpu().numpy().copy()
        result[outside] = full.argmax(dim=1).detach().cpu().numpy()
        return self._index(result, input)
