"""The ``sparse`` layer family: Embedding and EmbeddingBag and their functional forms."""

from ember.hookspecs import hookimpl


@hookimpl
def ember_register_modules():
    return {}


@hookimpl
def ember_register_functions():
    return {}
