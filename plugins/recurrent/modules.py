"""Recurrent modules: RNN, LSTM, GRU (multi-layer, optionally bidirectional, padded or
packed input) and the single-step cells RNNCell, LSTMCell, GRUCell."""

import math
import numbers
import warnings

import ember
from ember.nn import Module, Parameter

from . import functional as F
from .packed import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


def _check_states(owner, hx, lstm, dtype):
    """Refuse hidden states of the wrong kind: a Tensor (for LSTMs a pair
    ``(h_0, c_0)`` of Tensors) of the input's dtype. Returns the states as a tuple."""
    if lstm:
        if not isinstance(hx, (tuple, list)):
            raise TypeError(f"{owner}: hx must be a tuple (h_0, c_0) of two Tensors, but got "
                            f"{type(hx).__name__}")
        if len(hx) != 2:
            raise RuntimeError(f"{owner}: hx must be a tuple (h_0, c_0) of two Tensors, but got a "
                               f"{type(hx).__name__} of {len(hx)}")
        states, names = tuple(hx), ("hx[0] (h_0)", "hx[1] (c_0)")
    else:
        states, names = (hx,), ("hx",)
    for name, state in zip(names, states):
        if not isinstance(state, ember.Tensor):
            raise TypeError(f"{owner}: {name} must be a Tensor, but got {type(state).__name__}")
        if state.dtype != dtype:
            raise RuntimeError(f"{owner}: {name} has dtype {state.dtype}, but the input has dtype "
                               f"{dtype}; they must match")
    return states


class RNNBase(Module):
    """Shared machinery of :class:`RNN`, :class:`LSTM` and :class:`GRU`: parameters
    named as torch's (``weight_ih_l{k}[_reverse]`` ...), argument checks, packed and
    unbatched inputs. ``mode`` is ``'RNN_TANH'``, ``'RNN_RELU'``, ``'LSTM'`` or ``'GRU'``.
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                "dropout expects num_layers greater than 1, but got "
                f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if isinstance(num_layers, bool) or not isinstance(num_layers, int):
            raise TypeError(f"num_layers should be of type int, got: {type(num_layers).__name__}")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if not isinstance(bidirectional, bool):   # torch takes any truthy value
            raise TypeError(f"bidirectional should be of type bool, got: {type(bidirectional).__name__}")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in F._GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = F._GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        D = 2 if bidirectional else 1
        kw = dict(device=device, dtype=dtype)
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(D):
                layer_input = input_size if layer == 0 else real_hidden * D
                suffix = "_reverse" if direction == 1 else ""
                params = [(f"weight_ih_l{layer}{suffix}", (gate_size, layer_input)),
                          (f"weight_hh_l{layer}{suffix}", (gate_size, real_hidden))]
                if bias:
                    params += [(f"bias_ih_l{layer}{suffix}", (gate_size,)),
                               (f"bias_hh_l{layer}{suffix}", (gate_size,))]
                if proj_size > 0:
                    params.append((f"weight_hr_l{layer}{suffix}", (proj_size, hidden_size)))
                for name, shape in params:
                    setattr(self, name, Parameter(ember.empty(shape, **kw)))
                names = [n for n, _ in params]
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters, one list per layer and direction, in torch's order."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self):
        """Kept for compatibility: weights are never copied into one buffer here."""

    def reset_parameters(self):
        """Draw every parameter from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        with ember.no_grad():
            for w in self.parameters():
                w.uniform_(-stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # --- argument checks (torch's messages) ---

    def check_input(self, input, batch_sizes):
        w = self._flat_weights[0]
        if input.dtype != w.dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({w.dtype}). "
                f"Convert input: input.to({w.dtype}), or convert model: model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def _mini_batch(self, input, batch_sizes):
        if batch_sizes is not None:
            return batch_sizes[0]
        return input.size(0) if self.batch_first else input.size(1)

    def get_expected_hidden_size(self, input, batch_sizes):
        D = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * D, self._mini_batch(input, batch_sizes), size)

    def get_expected_cell_size(self, input, batch_sizes):
        D = 2 if self.bidirectional else 1
        return (self.num_layers * D, self._mini_batch(input, batch_sizes), self.hidden_size)

    def check_hidden_size(self, hx, expected, msg="Expected hidden size {}, got {}"):
        if tuple(hx.size()) != tuple(expected):
            raise RuntimeError(msg.format(tuple(expected), list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        if self.mode == "LSTM":
            self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                                   "Expected hidden[0] size {}, got {}")
            self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                                   "Expected hidden[1] size {}, got {}")
        else:
            self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    # --- forward ---

    def forward(self, input, hx=None):
        lstm = self.mode == "LSTM"
        D = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        packed = isinstance(input, PackedSequence)
        is_batched = True
        label = {"LSTM": "LSTM", "GRU": "GRU"}.get(self.mode, "RNN")
        if not packed and not isinstance(input, ember.Tensor):
            raise TypeError(f"{label}: input must be a Tensor or a PackedSequence, but got "
                            f"{type(input).__name__}")
        if packed:
            x, bs_t, sorted_indices, unsorted_indices = input
            batch_sizes = tuple(int(b) for b in bs_t.tolist())
        else:
            sorted_indices = unsorted_indices = None
            batch_sizes = None
            x = input
            if x.dim() not in (2, 3):
                tail = " tensor instead" if label == "RNN" else " instead"
                raise ValueError(f"{label}: Expected input to be 2D or 3D, got {x.dim()}D{tail}")
            is_batched = x.dim() == 3
            if x.shape[1 if self.batch_first and is_batched else 0] == 0:
                raise RuntimeError(f"Expected sequence length to be larger than 0 in RNN, but got "
                                   f"input of size {list(x.shape)}")
            if not is_batched:
                x = x.unsqueeze(0 if self.batch_first else 1)
            if hx is not None:
                hx = _check_states(label, hx, lstm, x.dtype)
                dims = [hx[0].dim(), hx[1].dim()] if lstm else [hx[0].dim()]
                hx = hx if lstm else hx[0]
                want = 3 if is_batched else 2
                if any(d != want for d in dims):
                    kind = "batched 3-D" if is_batched else "unbatched 2-D"
                    if lstm:
                        raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but "
                                           f"got ({dims[0]}-D, {dims[1]}-D) tensors")
                    raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got "
                                       f"{dims[0]}-D tensor")
                if not is_batched:
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1)) if lstm else hx.unsqueeze(1)
        B = self._mini_batch(x, batch_sizes)
        if packed and hx is not None:
            hx = _check_states(label, hx, lstm, x.dtype)
            hx = hx if lstm else hx[0]
        if hx is None:
            h0 = ember.zeros((self.num_layers * D, B, real_hidden), dtype=x.dtype, device=x.device)
            if lstm:
                c0 = ember.zeros((self.num_layers * D, B, self.hidden_size), dtype=x.dtype, device=x.device)
                hx = (h0, c0)
            else:
                hx = h0
        self.check_forward_args(x, hx, batch_sizes)
        if sorted_indices is not None:
            hx = (tuple(h.index_select(1, sorted_indices) for h in hx) if lstm
                  else hx.index_select(1, sorted_indices))
        h0, c0 = hx if lstm else (hx, None)
        if packed:
            flat = x
        else:
            if self.batch_first:
                x = x.transpose(0, 1)
            T = x.shape[0]
            batch_sizes = (B,) * T
            flat = x.reshape(T * B, self.input_size)
        if batch_sizes:
            out, h_n, c_n = F.run_layers(self.mode, flat, batch_sizes, h0, c0, self._flat_weights,
                                         self.num_layers, self.bidirectional, self.dropout,
                                         self.training)
        else:  # no time steps: the states pass through
            out = ember.zeros((0, D * real_hidden), dtype=flat.dtype, device=flat.device)
            h_n, c_n = h0 * 1, (c0 * 1 if lstm else None)
        if packed:
            if unsorted_indices is not None:
                h_n = h_n.index_select(1, unsorted_indices)
                if lstm:
                    c_n = c_n.index_select(1, unsorted_indices)
            output = PackedSequence(out, bs_t, sorted_indices, unsorted_indices)
        else:
            output = out.reshape(len(batch_sizes), B, D * real_hidden)
            if self.batch_first:
                output = output.transpose(0, 1)
            if not is_batched:
                output = output.squeeze(0 if self.batch_first else 1)
                h_n = h_n.squeeze(1)
                if lstm:
                    c_n = c_n.squeeze(1)
        return output, ((h_n, c_n) if lstm else h_n)


class RNN(RNNBase):
    r"""Multi-layer Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``
    (``relu`` in place of ``tanh`` with ``nonlinearity='relu'``).

    Args:
        input_size: features of the input ``x``.
        hidden_size: features of the hidden state ``h``.
        num_layers: stacked recurrent layers. Default: 1.
        nonlinearity: ``'tanh'`` or ``'relu'``. Default: ``'tanh'``.
        bias: use ``b_ih`` and ``b_hh``. Default: True.
        batch_first: input and output are ``(batch, seq, feature)``. Default: False.
        dropout: dropout probability on the outputs of every layer but the last, in
            training mode. Default: 0.
        bidirectional: run a second, reversed recurrence per layer. Default: False.

    Inputs: ``input, h_0``
        - input: ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``), ``(L, H_in)``
          unbatched, or a :class:`~ember.nn.utils.rnn.PackedSequence`.
        - h_0: ``(D * num_layers, N, H_out)`` (zeros when omitted).

    Outputs: ``output, h_n``
        - output: ``(L, N, D * H_out)`` (packed when the input is packed).
        - h_n: ``(D * num_layers, N, H_out)``, the final states.

    Attributes:
        weight_ih_l[k], weight_hh_l[k], bias_ih_l[k], bias_hh_l[k] (``_reverse`` for the
        second direction), all drawn from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``.

    Examples::

        >>> rnn = nn.RNN(10, 20, 2)
        >>> output, hn = rnn(ember.randn(5, 3, 10), ember.randn(2, 3, 20))
        >>> output.size(), hn.size()
        (ember.Size([5, 3, 20]), ember.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    r"""Multi-layer long short-term memory RNN. Per step, with gates in torch's order
    ``i, f, g, o``::

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)    f = sigmoid(W_if x + ... )
        g = tanh(W_ig x + ...)                         o = sigmoid(W_io x + ...)
        c' = f * c + i * g                             h' = o * tanh(c')

    With ``proj_size > 0``, ``h' = (o * tanh(c')) W_hr^T`` has ``proj_size`` features.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional:
            as for :class:`RNN`.
        proj_size: size of the projected hidden state (0: no projection). Default: 0.

    Inputs: ``input, (h_0, c_0)``
        - input: as for :class:`RNN`.
        - h_0: ``(D * num_layers, N, H_out)``; c_0: ``(D * num_layers, N, H_cell)``
          (both zeros when omitted).

    Outputs: ``output, (h_n, c_n)``

    Examples::

        >>> rnn = nn.LSTM(10, 20, 2)
        >>> output, (hn, cn) = rnn(ember.randn(5, 3, 10))
        >>> output.size(), cn.size()
        (ember.Size([5, 3, 20]), ember.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    r"""Multi-layer gated recurrent unit RNN. Per step, gates in torch's order ``r, z, n``::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    Args:
        as for :class:`RNN` (without ``nonlinearity``).

    Inputs: ``input, h_0``; Outputs: ``output, h_n`` (as for :class:`RNN`).

    Examples::

        >>> rnn = nn.GRU(10, 20, 2)
        >>> output, hn = rnn(ember.randn(5, 3, 10))
        >>> output.size()
        ember.Size([5, 3, 20])
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):
    """Shared parameters and checks of the single-step cells."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        kw = dict(device=device, dtype=dtype)
        self.weight_ih = Parameter(ember.empty((num_chunks * hidden_size, input_size), **kw))
        self.weight_hh = Parameter(ember.empty((num_chunks * hidden_size, hidden_size), **kw))
        if bias:
            self.bias_ih = Parameter(ember.empty(num_chunks * hidden_size, **kw))
            self.bias_hh = Parameter(ember.empty(num_chunks * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        """Draw every parameter from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        with ember.no_grad():
            for w in self.parameters():
                w.uniform_(-stdv, stdv)

    def _prepare(self, name, input, states):
        """Checks, batching of 1-D input, zero states; returns (input, states, is_batched)."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected "
                               f"{self.input_size}")
        B = input.size(0)
        out = []
        for k, s in enumerate(states):
            if s is None:
                s = ember.zeros((B, self.hidden_size), dtype=input.dtype, device=input.device)
            elif not is_batched:
                s = s.unsqueeze(0)
            if s.size(0) != B:
                raise RuntimeError(f"Input batch size {B} doesn't match hidden{k} batch size {s.size(0)}")
            if s.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {s.size(1)}, "
                                   f"expected {self.hidden_size}")
            out.append(s)
        return input, out, is_batched


class RNNCell(RNNCellBase):
    r"""One step of an Elman RNN: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``
    (``relu`` with ``nonlinearity='relu'``).

    Args:
        input_size: features of ``x``. hidden_size: features of ``h``.
        bias: use ``b_ih`` and ``b_hh``. Default: True.
        nonlinearity: ``'tanh'`` or ``'relu'``. Default: ``'tanh'``.

    Inputs: ``input (N, H_in)`` or ``(H_in)``, ``hidden (N, H_out)`` or ``(H_out)``
    (zeros when omitted). Output: ``h' (N, H_out)`` or ``(H_out)``.

    Examples::

        >>> cell = nn.RNNCell(10, 20)
        >>> cell(ember.randn(3, 10)).size()
        ember.Size([3, 20])
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):   # torch waits for the first forward
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if not isinstance(input, ember.Tensor):
            raise TypeError(f"RNNCell: input must be a Tensor, but got {type(input).__name__}")
        if hx is not None:
            (hx,) = _check_states("RNNCell", hx, False, input.dtype)
        if hx is not None and hx.dim() not in (1, 2):
            if input.dim() in (1, 2):
                raise ValueError(f"RNNCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        input, (h,), is_batched = self._prepare("RNNCell", input, [hx])
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        out = F.cell(mode, input, h, None, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if is_batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    r"""One step of an LSTM (gates ``i, f, g, o`` as in :class:`LSTM`).

    Args:
        input_size: features of ``x``. hidden_size: features of ``h`` and ``c``.
        bias: use ``b_ih`` and ``b_hh``. Default: True.

    Inputs: ``input (N, H_in)`` or ``(H_in)``, ``(h_0, c_0)`` each ``(N, H)`` or ``(H)``
    (zeros when omitted). Outputs: ``(h_1, c_1)``.

    Examples::

        >>> cell = nn.LSTMCell(10, 20)
        >>> h, c = cell(ember.randn(3, 10))
        >>> h.size()
        ember.Size([3, 20])
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if not isinstance(input, ember.Tensor):
            raise TypeError(f"LSTMCell: input must be a Tensor, but got {type(input).__name__}")
        if hx is not None:
            hx = _check_states("LSTMCell", hx, True, input.dtype)
        if input.dim() in (1, 2) and hx is not None:
            for idx, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, got "
                                     f"{value.dim()}D instead")
        states = [None, None] if hx is None else list(hx)
        input, (h, c), is_batched = self._prepare("LSTMCell", input, states)
        h1, c1 = F.cell("LSTM", input, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if not is_batched:
            return h1.squeeze(0), c1.squeeze(0)
        return h1, c1


class GRUCell(RNNCellBase):
    r"""One step of a GRU (gates ``r, z, n`` as in :class:`GRU`).

    Args:
        input_size: features of ``x``. hidden_size: features of ``h``.
        bias: use ``b_ih`` and ``b_hh``. Default: True.

    Inputs: ``input (N, H_in)`` or ``(H_in)``, ``hidden (N, H)`` or ``(H)`` (zeros when
    omitted). Output: ``h' (N, H)`` or ``(H)``.

    Examples::

        >>> cell = nn.GRUCell(10, 20)
        >>> cell(ember.randn(3, 10)).size()
        ember.Size([3, 20])
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if not isinstance(input, ember.Tensor):
            raise TypeError(f"GRUCell: input must be a Tensor, but got {type(input).__name__}")
        if hx is not None:
            (hx,) = _check_states("GRUCell", hx, False, input.dtype)
        if input.dim() in (1, 2) and hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"GRUCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        input, (h,), is_batched = self._prepare("GRUCell", input, [hx])
        out = F.cell("GRU", input, h, None, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if is_batched else out.squeeze(0)
