"""The ``distance`` layer family: CosineSimilarity, PairwiseDistance."""

from ember.hookspecs import hookimpl
from ember.plugins import exports


@hookimpl
def ember_register_modules():
    from .modules import CosineSimilarity, PairwiseDistance

    return {"CosineSimilarity": CosineSimilarity, "PairwiseDistance": PairwiseDistance}


@hookimpl
def ember_register_functions():
    from .functional import cosine_similarity, normalize, pairwise_distance, pdist

    return {"cosine_similarity": cosine_similarity, "pairwise_distance": pairwise_distance,
            "normalize": normalize, "pdist": pdist}


__getattr__, __dir__ = exports(__name__)
