"""``ember.optim``: optimizers that update parameters from their gradients, and
learning-rate schedulers (``ember.optim.lr_scheduler``).

The update rules follow torch's single-tensor implementations step for step, so an
ember model trained with ``ember.optim.SGD`` follows the same trajectory as the
torch model trained with ``torch.optim.SGD`` (to float rounding). State dicts use
torch's layout.
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "ASGD",
           "Rprop", "LBFGS", "SparseAdam", "lr_scheduler"]
