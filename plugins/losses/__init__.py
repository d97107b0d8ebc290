"""The ``losses`` layer family: loss modules (``ember.nn.CrossEntropyLoss``...) and
their functional forms (``ember.nn.functional.cross_entropy``...)."""

from ember.hookspecs import hookimpl
from ember.plugins import exports

#: The families this one calls into; disabling one of them disables this one too.
REQUIRES = ("linear",)


@hookimpl
def ember_register_modules():
    from . import modules as m
    from .adaptive import AdaptiveLogSoftmaxWithLoss
    from .ctc import CTCLoss

    return {
        "L1Loss": m.L1Loss,
        "MSELoss": m.MSELoss,
        "CrossEntropyLoss": m.CrossEntropyLoss,
        "NLLLoss": m.NLLLoss,
        "PoissonNLLLoss": m.PoissonNLLLoss,
        "GaussianNLLLoss": m.GaussianNLLLoss,
        "KLDivLoss": m.KLDivLoss,
        "BCELoss": m.BCELoss,
        "BCEWithLogitsLoss": m.BCEWithLogitsLoss,
        "MarginRankingLoss": m.MarginRankingLoss,
        "HingeEmbeddingLoss": m.HingeEmbeddingLoss,
        "MultiLabelMarginLoss": m.MultiLabelMarginLoss,
        "SmoothL1Loss": m.SmoothL1Loss,
        "HuberLoss": m.HuberLoss,
        "SoftMarginLoss": m.SoftMarginLoss,
        "MultiLabelSoftMarginLoss": m.MultiLabelSoftMarginLoss,
        "CosineEmbeddingLoss": m.CosineEmbeddingLoss,
        "MultiMarginLoss": m.MultiMarginLoss,
        "TripletMarginLoss": m.TripletMarginLoss,
        "TripletMarginWithDistanceLoss": m.TripletMarginWithDistanceLoss,
        "CTCLoss": CTCLoss,
        "AdaptiveLogSoftmaxWithLoss": AdaptiveLogSoftmaxWithLoss,
    }


@hookimpl
def ember_register_functions():
    from . import functional as f
    from .ctc import ctc_loss

    return {
        "l1_loss": f.l1_loss,
        "mse_loss": f.mse_loss,
        "cross_entropy": f.cross_entropy,
        "nll_loss": f.nll_loss,
        "poisson_nll_loss": f.poisson_nll_loss,
        "gaussian_nll_loss": f.gaussian_nll_loss,
        "kl_div": f.kl_div,
        "binary_cross_entropy": f.binary_cross_entropy,
        "binary_cross_entropy_with_logits": f.binary_cross_entropy_with_logits,
        "margin_ranking_loss": f.margin_ranking_loss,
        "hinge_embedding_loss": f.hinge_embedding_loss,
        "multilabel_margin_loss": f.multilabel_margin_loss,
        "smooth_l1_loss": f.smooth_l1_loss,
        "huber_loss": f.huber_loss,
        "soft_margin_loss": f.soft_margin_loss,
        "multilabel_soft_margin_loss": f.multilabel_soft_margin_loss,
        "cosine_embedding_loss": f.cosine_embedding_loss,
        "multi_margin_loss": f.multi_margin_loss,
        "triplet_margin_loss": f.triplet_margin_loss,
        "triplet_margin_with_distance_loss": f.triplet_margin_with_distance_loss,
        "ctc_loss": ctc_loss,
    }


__getattr__, __dir__ = exports(__name__)
