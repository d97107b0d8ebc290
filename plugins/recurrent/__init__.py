"""The ``recurrent`` layer family: RNN, LSTM, GRU, their cells, and the packed
sequences of ``ember.nn.utils.rnn``."""

from ember.hookspecs import hookimpl
from ember.plugins import exports

#: The families this one calls into; disabling one of them disables this one too.
REQUIRES = ("linear", "dropout")


@hookimpl
def ember_register_modules():
    from .modules import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase

    return {"RNNBase": RNNBase, "RNN": RNN, "LSTM": LSTM, "GRU": GRU, "RNNCellBase": RNNCellBase,
            "RNNCell": RNNCell, "LSTMCell": LSTMCell, "GRUCell": GRUCell}


@hookimpl
def ember_register_utils():
    from . import packed as p

    return {
        "rnn.PackedSequence": p.PackedSequence,
        "rnn.pack_padded_sequence": p.pack_padded_sequence,
        "rnn.pad_packed_sequence": p.pad_packed_sequence,
        "rnn.pad_sequence": p.pad_sequence,
        "rnn.pack_sequence": p.pack_sequence,
        "rnn.unpad_sequence": p.unpad_sequence,
        "rnn.unpack_sequence": p.unpack_sequence,
        "rnn.invert_permutation": p.invert_permutation,
    }


@hookimpl
def ember_register_kernels():
    from .kernels import table

    return table()


__getattr__, __dir__ = exports(__name__)
