"""``ember.optim``: optimizers that update parameters from their gradients, and
learning-rate schedulers (``ember.optim.lr_scheduler``).

The update rules follow torch's single-tensor implementations step for step, so an
ember model trained with ``ember.optim.SGD`` follows the same trajectory as the
torch model trained with ``torch.optim.SGD`` (to float rounding). State dicts use
torch's layout.
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
