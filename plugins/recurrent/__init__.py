"""The ``recurrent`` layer family: RNN, LSTM, GRU, their cells, and the packed
sequences of ``ember.nn.utils.rnn``."""

from ember.hookspecs import hookimpl


@hookimpl
def ember_register_modules():
    return {}


@hookimpl
def ember_register_utils():
    return {}
