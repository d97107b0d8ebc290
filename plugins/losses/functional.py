"""``ember.nn.functional`` losses of the ``losses`` family, under torch's names.

The math lives in :mod:`.regression` (pointwise, distribution and embedding
losses) and :mod:`.classification` (class-index, binary and hinge losses); the
reduction arguments are handled by :mod:`._reduction`.
"""

from .classification import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                             multi_margin_loss, multilabel_margin_loss, multilabel_soft_margin_loss, nll_loss,
                             soft_margin_loss)
from .ctc import ctc_loss
from .regression import (cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div,
                         l1_loss, margin_ranking_loss, mse_loss, poisson_nll_loss, smooth_l1_loss,
                         triplet_margin_loss, triplet_margin_with_distance_loss)

__all__ = ["l1_loss", "mse_loss", "cross_entropy", "nll_loss", "poisson_nll_loss",
           "gaussian_nll_loss", "kl_div", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "margin_ranking_loss", "hinge_embedding_loss",
           "multilabel_margin_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "cosine_embedding_loss", "multi_margin_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss", "ctc_loss"]
