"""The ``sparse`` layer family: Embedding and EmbeddingBag and their functional forms."""

from ember.hookspecs import hookimpl
from ember.plugins import exports


@hookimpl
def ember_register_modules():
    from .modules import Embedding, EmbeddingBag

    return {"Embedding": Embedding, "EmbeddingBag": EmbeddingBag}


@hookimpl
def ember_register_functions():
    from .functional import embedding, embedding_bag, one_hot

    return {"embedding": embedding, "embedding_bag": embedding_bag, "one_hot": one_hot}


@hookimpl
def ember_register_kernels():
    from .kernels import table

    return table()


__getattr__, __dir__ = exports(__name__)
