"""The ``recurrent`` layer family: RNN, LSTM, GRU, their cells, and the packed
sequences of ``ember.nn.utils.rnn``."""

from ember.hookspecs import hookimpl
from ember.plugins import exports, family_hooks

#: The families this one calls into; disabling one of them disables this one too.
REQUIRES = ("linear", "dropout")

ember_register_modules, ember_register_functions, ember_register_kernels = family_hooks(__name__)


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


__getattr__, __dir__ = exports(__name__)
