"""``ember.optim.lr_scheduler``: learning-rate schedules that rewrite an optimizer's ``lr``.

Call the scheduler's ``step()`` after the optimizer's, once per epoch (or per batch
for schedules meant that way). The epoch-indexed schedules compute each new rate
from the current one (the "chainable" form torch uses), so several schedulers may
act on the same optimizer; ``step(epoch)`` with an explicit epoch uses the closed
form instead and is deprecated, as in torch.
"""

import math
import types
import warnings
import weakref
from bisect import bisect_right
from collections import Counter

from .optimizer import Optimizer

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
           "LinearLR", "ExponentialLR", "SequentialLR", "PolynomialLR", "CosineAnnealingLR",
           "ChainedScheduler", "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts",
           "OneCycleLR"]

_EPOCH_DEPRECATED = (
    "Passing an epoch to the scheduler's step() is deprecated: it sets last_epoch and uses "
    "the closed-form schedule where there is one. Call step() without arguments instead.")


def _check_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _track_optimizer_steps(optimizer):
    """Make ``optimizer.step`` set ``optimizer._opt_called``, once per optimizer.

    The schedulers read the flag to warn when they are stepped before the
    optimizer. The wrapper holds the optimizer weakly, so it adds no reference cycle.
    """
    if getattr(optimizer.step, "_tracked_by_lr_scheduler", False):
        return
    func = type(optimizer).step
    owner = weakref.ref(optimizer)

    def step(*args, **kwargs):
        opt = owner()
        opt._opt_called = True
        return func(opt, *args, **kwargs)

    step._tracked_by_lr_scheduler = True
    step.__doc__ = func.__doc__
    optimizer.step = step


def _lrs(optimizer):
    return [group["lr"] for group in optimizer.param_groups]


class LRScheduler:
    """Base class of the epoch-indexed schedulers.

    On construction with ``last_epoch=-1`` each parameter group gets an
    ``"initial_lr"`` (its current ``lr``) and the scheduler takes its first step, to
    epoch 0. To resume, pass the last finished epoch; the groups must then already
    hold ``"initial_lr"`` (load the optimizer's state dict first).

    Args:
        optimizer (Optimizer): the optimizer whose learning rates are scheduled.
        last_epoch (int): index of the last epoch (default: -1, a fresh start).

    Attributes:
        base_lrs (list): every group's ``initial_lr``.
        last_epoch (int): the epoch the current learning rates belong to.
    """

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   "when resuming an optimizer")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        _track_optimizer_steps(optimizer)
        self._initial_step()

    def _initial_step(self):
        """Reset the step count and take the constructor's step (to ``last_epoch + 1``)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self):
        """Every attribute of the scheduler except the optimizer, as a dict."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore the attributes saved by :meth:`state_dict`."""
        self.__dict__.update(state_dict)

    def get_last_lr(self):
        """The learning rates (one per parameter group) set by the latest step."""
        return self._last_lr

    def get_lr(self):
        """The next learning rates, from the current ones; subclasses implement it."""
        raise NotImplementedError

    def step(self, epoch=None):
        """Advance to the next epoch (or, deprecated, to ``epoch``) and set the rates.

        Call it after ``optimizer.step()``; the first call before any optimizer
        step warns, since the first value of the schedule would be skipped.
        """
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`. Call "
                "`optimizer.step()` first, then `lr_scheduler.step()`; in this order the first "
                "value of the learning rate schedule is skipped.", UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATED, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        """Move to the next epoch (or to ``epoch``, by the closed form where there is
        one) and write the new rates into the optimizer; no warning, no step count."""
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = _lrs(self.optimizer)


#: The name torch used before 2.0; kept for code that subclasses it.
_LRScheduler = LRScheduler


class StepLR(LRScheduler):
    """Multiply the learning rates by ``gamma`` every ``step_size`` epochs.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        step_size (int): period of the decay, in epochs.
        gamma (float): multiplicative factor (default: 0.1).
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> from ember.optim.lr_scheduler import StepLR
        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.05)
        >>> scheduler = StepLR(optimizer, step_size=2, gamma=0.1)
        >>> rates = []
        >>> for epoch in range(6):
        ...     rates.append(round(scheduler.get_last_lr()[0], 6))
        ...     optimizer.step()
        ...     scheduler.step()
        >>> rates
        [0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005]
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The current rates, times ``gamma`` at each non-zero multiple of ``step_size``."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _lrs(self.optimizer)
        return [lr * self.gamma for lr in _lrs(self.optimizer)]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rates by ``gamma`` at each milestone epoch.

    A milestone listed ``n`` times multiplies by ``gamma ** n``.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        milestones (list): epoch indices.
        gamma (float): multiplicative factor (default: 0.1).
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> from ember.optim.lr_scheduler import MultiStepLR
        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.05)
        >>> scheduler = MultiStepLR(optimizer, milestones=[2, 5])
        >>> rates = []
        >>> for epoch in range(6):
        ...     rates.append(round(scheduler.get_last_lr()[0], 6))
        ...     optimizer.step()
        ...     scheduler.step()
        >>> rates
        [0.05, 0.05, 0.005, 0.005, 0.005, 0.0005]
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The current rates, times ``gamma ** count`` when this epoch is a milestone."""
        count = self.milestones.get(self.last_epoch, 0)
        if count == 0:
            return _lrs(self.optimizer)
        return [lr * self.gamma**count for lr in _lrs(self.optimizer)]

    def _get_closed_form_lr(self):
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rates by ``gamma`` every epoch.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        gamma (float): multiplicative factor per epoch.
        last_epoch (int): index of the last epoch (default: -1).
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The current rates times ``gamma`` (unchanged on the constructor's step)."""
        if self._is_initial:
            return _lrs(self.optimizer)
        return [lr * self.gamma for lr in _lrs(self.optimizer)]

    def _get_closed_form_lr(self):
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Anneal the learning rates along a cosine from ``base_lr`` down to ``eta_min``.

    The closed form is :math:`\eta_t = \eta_{min} + \frac12(\eta_{base} - \eta_{min})
    (1 + \cos(\pi t / T_{max}))`; like torch, each step computes the next rate from
    the current one (the recursive form), so the schedule composes with other
    changes to ``lr`` and continues past ``T_max`` as a periodic curve (SGDR without
    restarts).

    Args:
        optimizer (Optimizer): wrapped optimizer.
        T_max (int): number of epochs of a half period.
        eta_min (float): the lowest learning rate (default: 0).
        last_epoch (int): index of the last epoch (default: -1).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The next rates of the recursive cosine schedule."""
        eta_min, t_max, epoch = self.eta_min, self.T_max, self.last_epoch
        lrs = _lrs(self.optimizer)
        if self._is_initial:
            return lrs
        if self._step_count == 1 and epoch > 0:
            # First step of a resumed schedule: no previous rate to start from.
            return [eta_min + (base - eta_min) * (1 + math.cos(epoch * math.pi / t_max)) / 2
                    for base in self.base_lrs]
        if (epoch - 1 - t_max) % (2 * t_max) == 0:
            # Leaving the minimum: the ratio form would divide by zero here.
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for base, lr in zip(self.base_lrs, lrs)]
        ratio = (1 + math.cos(math.pi * epoch / t_max)) / (1 + math.cos(math.pi * (epoch - 1) / t_max))
        return [ratio * (lr - eta_min) + eta_min for lr in lrs]

    def _get_closed_form_lr(self):
        cos = math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base - self.eta_min) * (1 + cos) / 2 for base in self.base_lrs]


class ReduceLROnPlateau(LRScheduler):
    """Reduce the learning rates when a monitored metric stops improving.

    ``step(metric)`` is called once per epoch with the metric (e.g. validation loss).
    A value counts as an improvement when it beats the best so far by the
    threshold; after more than ``patience`` epochs without one, every group's rate
    is multiplied by ``factor`` (not below its ``min_lr``; changes smaller than
    ``eps`` are skipped) and ``cooldown`` epochs follow in which bad epochs are not
    counted.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        mode (str): ``'min'`` (the metric should decrease) or ``'max'`` (default: 'min').
        factor (float): multiplier of the rates, < 1 (default: 0.1).
        patience (int): bad epochs tolerated before reducing (default: 10).
        threshold (float): smallest significant improvement (default: 1e-4).
        threshold_mode (str): ``'rel'`` (relative to the best: ``best * (1 -
            threshold)`` in min mode, ``best * (1 + threshold)`` in max mode) or
            ``'abs'`` (``best -/+ threshold``) (default: 'rel').
        cooldown (int): epochs to wait after a reduction (default: 0).
        min_lr (float or list): lower bound of the rates, one for all groups or one
            per group (default: 0).
        eps (float): smallest change of a rate that is applied (default: 1e-8).

    Example:
        >>> from ember.optim.lr_scheduler import ReduceLROnPlateau
        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.05)
        >>> scheduler = ReduceLROnPlateau(optimizer, 'min', patience=1)
        >>> # flat after epoch 1: every 2nd epoch without progress (patience=1) cuts the rate by 10
        >>> for validation_loss in [1.0, 0.9, 0.9, 0.9, 0.9, 0.9]:
        ...     optimizer.step()
        ...     scheduler.step(validation_loss)
        >>> round(optimizer.param_groups[0]['lr'], 6)
        0.0005
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        self.factor = factor
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _lrs(optimizer)
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ValueError("mode " + mode + " is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError("threshold mode " + threshold_mode + " is unknown!")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    @property
    def in_cooldown(self):
        """Whether the cooldown after the latest reduction is still running."""
        return self.cooldown_counter > 0

    def is_better(self, a, best):
        """Whether metric value ``a`` improves on ``best`` by the threshold."""
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if self.threshold_mode == "rel"
                        else best - self.threshold)
        return a > (best * (1.0 + self.threshold) if self.threshold_mode == "rel"
                    else best + self.threshold)

    def step(self, metrics, epoch=None):
        """Record this epoch's metric (a number or 0-d tensor) and reduce if it stalled."""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(_EPOCH_DEPRECATED, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _lrs(self.optimizer)

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` ({len(groups)}) differs from "
                    f"when `ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), usually "
                    "because a param group was added; set `min_lrs` to one value per group.")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new

    def load_state_dict(self, state_dict):
        """Restore the attributes saved by :meth:`state_dict`."""
        self.__dict__.update(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)


# ---------------------------------------------------------------- helpers of the schedules below

def _per_group(name, optimizer, value):
    """``value`` as a list with one entry per parameter group (a list/tuple must match)."""
    count = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(value)} values, param_groups has {count}.")
        return list(value)
    return [value] * count


def _lambdas_per_group(optimizer, lr_lambda):
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != len(optimizer.param_groups):
            raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, "
                             f"but got {len(lr_lambda)}")
        return list(lr_lambda)
    return [lr_lambda] * len(optimizer.param_groups)


def _callable_state(fn):
    """What a state dict keeps of a user callable: the attributes of a callable
    object, nothing (None) for a plain function or lambda, which cannot be saved."""
    if fn is None or isinstance(fn, types.FunctionType):
        return None
    return fn.__dict__.copy()


class _LambdaStateMixin:
    """State dict handling shared by the schedules driven by ``lr_lambdas``."""

    def state_dict(self):
        """The scheduler's attributes except the optimizer; of ``lr_lambdas`` only the
        attributes of callable objects are kept (functions and lambdas become None)."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [_callable_state(fn) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        """Restore the attributes, and those of callable-object ``lr_lambdas``."""
        state = {k: v for k, v in state_dict.items() if k != "lr_lambdas"}
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, state_dict["lr_lambdas"]):
            if saved is not None:
                fn.__dict__.update(saved)


def _momentum_support(optimizer):
    """Whether the optimizer cycles ``betas[0]`` (True) or ``momentum`` (False)."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` "
                         "option enabled")
    return "betas" in optimizer.defaults


def _set_momentum(group, value, use_beta1):
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _init_momentum_groups(optimizer, use_beta1, base_momentums, max_momentums):
    """Start every group at its ``max_momentum`` and record both bounds in the group."""
    for group, base, top in zip(optimizer.param_groups, base_momentums, max_momentums):
        _set_momentum(group, top, use_beta1)
        group["max_momentum"] = top
        group["base_momentum"] = base


# ---------------------------------------------------------------- more epoch-indexed schedules

class LambdaLR(_LambdaStateMixin, LRScheduler):
    """Set each group's rate to its initial rate times ``lr_lambda(epoch)``.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        lr_lambda (callable or list): the factor as a function of the epoch index,
            or one such function per parameter group.
        last_epoch (int): index of the last epoch (default: -1).

    Only callable objects among the lambdas have their attributes saved by
    :meth:`state_dict`; plain functions and lambdas are stored as None.

    Example:
        >>> from ember.optim.lr_scheduler import LambdaLR
        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.05)
        >>> warmup = lambda epoch: min(1.0, (epoch + 1) / 4)  # linear warm-up over 4 epochs
        >>> scheduler = LambdaLR(optimizer, warmup)
        >>> rates = []
        >>> for epoch in range(6):
        ...     rates.append(round(scheduler.get_last_lr()[0], 6))
        ...     optimizer.step()
        ...     scheduler.step()
        >>> rates
        [0.0125, 0.025, 0.0375, 0.05, 0.05, 0.05]
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas_per_group(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """``base_lr * lr_lambda(last_epoch)`` for each group."""
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaStateMixin, LRScheduler):
    """Multiply each group's current rate by ``lr_lambda(epoch)`` at every step.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        lr_lambda (callable or list): the per-step factor as a function of the epoch
            index, or one such function per parameter group.
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> from ember.optim.lr_scheduler import MultiplicativeLR
        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.05)
        >>> scheduler = MultiplicativeLR(optimizer, lambda epoch: 0.5)
        >>> rates = []
        >>> for epoch in range(4):
        ...     rates.append(round(scheduler.get_last_lr()[0], 6))
        ...     optimizer.step()
        ...     scheduler.step()
        >>> rates
        [0.05, 0.025, 0.0125, 0.00625]
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas_per_group(optimizer, lr_lambda)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The current rates times ``lr_lambda(last_epoch)`` (unchanged on construction)."""
        lrs = _lrs(self.optimizer)
        if self._is_initial:
            return lrs
        return [lr * fn(self.last_epoch) for fn, lr in zip(self.lr_lambdas, lrs)]


class ConstantLR(LRScheduler):
    """Scale the rates by a constant ``factor`` for the first ``total_iters`` epochs.

    At epoch ``total_iters`` the rates return to their unscaled values.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        factor (float): the scale, in [0, 1] (default: 1/3).
        total_iters (int): number of epochs with the scaled rate (default: 5).
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> from ember.optim.lr_scheduler import ConstantLR
        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.05)
        >>> scheduler = ConstantLR(optimizer, factor=0.5, total_iters=4)
        >>> rates = []
        >>> for epoch in range(6):
        ...     rates.append(round(scheduler.get_last_lr()[0], 6))
        ...     optimizer.step()
        ...     scheduler.step()
        >>> rates
        [0.025, 0.025, 0.025, 0.025, 0.05, 0.05]
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Scale down at epoch 0, back up at ``total_iters``, unchanged otherwise."""
        lrs = _lrs(self.optimizer)
        if self.last_epoch == 0:
            return [lr * self.factor for lr in lrs]
        if self.last_epoch != self.total_iters:
            return lrs
        return [lr * (1.0 / self.factor) for lr in lrs]

    def _get_closed_form_lr(self):
        scale = self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor)
        return [base * scale for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the rates by a factor moving linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` epochs, then keep it.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        start_factor (float): the factor at epoch 0, in (0, 1] (default: 1/3).
        end_factor (float): the factor from epoch ``total_iters`` on, in [0, 1]
            (default: 1.0).
        total_iters (int): length of the ramp in epochs (default: 5).
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> from ember.optim.lr_scheduler import LinearLR
        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.05)
        >>> scheduler = LinearLR(optimizer, start_factor=0.5, total_iters=4)
        >>> rates = []
        >>> for epoch in range(6):
        ...     rates.append(round(scheduler.get_last_lr()[0], 6))
        ...     optimizer.step()
        ...     scheduler.step()
        >>> rates
        [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05]
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and "
                             "less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The next rates of the ramp, as a ratio of consecutive factors."""
        lrs = _lrs(self.optimizer)
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in lrs]
        if self._is_initial or self.last_epoch > self.total_iters:
            return lrs
        span = self.end_factor - self.start_factor
        ratio = 1.0 + span / (self.total_iters * self.start_factor + (self.last_epoch - 1) * span)
        return [lr * ratio for lr in lrs]

    def _get_closed_form_lr(self):
        done = min(self.total_iters, self.last_epoch)
        scale = self.start_factor + (self.end_factor - self.start_factor) * done / self.total_iters
        return [base * scale for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the rates as ``base_lr * (1 - epoch / total_iters) ** power``, reaching
    zero at ``total_iters`` and staying there.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        total_iters (int): number of epochs of the decay (default: 5).
        power (float): the exponent (default: 1.0, linear).
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> from ember.optim.lr_scheduler import PolynomialLR
        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.001)
        >>> scheduler = PolynomialLR(optimizer, total_iters=4, power=1.0)
        >>> rates = []
        >>> for epoch in range(6):
        ...     rates.append(round(scheduler.get_last_lr()[0], 6))
        ...     optimizer.step()
        ...     scheduler.step()
        >>> rates
        [0.001, 0.00075, 0.0005, 0.00025, 0.0, 0.0]
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The current rates times the ratio of consecutive polynomial values."""
        lrs = _lrs(self.optimizer)
        if self._is_initial or self.last_epoch > self.total_iters:
            return lrs
        now = 1.0 - self.last_epoch / self.total_iters
        before = 1.0 - (self.last_epoch - 1) / self.total_iters
        decay = (now / before) ** self.power
        return [lr * decay for lr in lrs]

    def _get_closed_form_lr(self):
        left = 1.0 - min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * left**self.power for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing with warm restarts (SGDR).

    :math:`\eta_t = \eta_{min} + \frac12(\eta_{base} - \eta_{min})(1 + \cos(\pi
    T_{cur} / T_i))`, where :math:`T_{cur}` counts the epochs since the latest
    restart and :math:`T_i` is the length of the current period: ``T_0`` at first,
    multiplied by ``T_mult`` at each restart.

    ``step()`` may be called once per batch with a fractional epoch,
    ``scheduler.step(epoch + i / iters)``; an explicit epoch does not warn here.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        T_0 (int): length of the first period.
        T_mult (int): growth factor of the period after each restart (default: 1).
        eta_min (float): the lowest learning rate (default: 0).
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> from ember.optim.lr_scheduler import CosineAnnealingWarmRestarts
        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.1)
        >>> scheduler = CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=2)
        >>> rates = []
        >>> for epoch in range(3):
        ...     for i in range(2):  # two batches per epoch
        ...         optimizer.step()
        ...         scheduler.step(epoch + i / 2)
        ...         rates.append(round(scheduler.get_last_lr()[0], 6))
        >>> rates
        [0.1, 0.085355, 0.05, 0.014645, 0.1, 0.096194]
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type "
                             f"{type(eta_min)}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The rates at position ``T_cur`` of the current period."""
        cos = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (base - self.eta_min) * cos / 2 for base in self.base_lrs]

    def step(self, epoch=None):
        """Advance one epoch, or jump to ``epoch`` (a non-negative, possibly
        fractional number), restarting the cosine where a period ends."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        elif epoch < 0:
            raise ValueError(f"Expected non-negative epoch, but got {epoch}")
        elif epoch < self.T_0:
            self.T_i = self.T_0
            self.T_cur = epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            # Periods T_0, T_0*m, T_0*m^2...: the restart count n solves a geometric sum.
            m = self.T_mult
            n = int(math.log(epoch / self.T_0 * (m - 1) + 1, m))
            self.T_cur = epoch - self.T_0 * (m**n - 1) / (m - 1)
            self.T_i = self.T_0 * m**n
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = _lrs(self.optimizer)


# ---------------------------------------------------------------- per-batch cyclic schedules

class CyclicLR(LRScheduler):
    """Cycle the rates between ``base_lr`` and ``max_lr`` (cyclical learning rates,
    Smith 2017); call ``step()`` after every batch.

    A cycle rises over ``step_size_up`` steps and falls over ``step_size_down``.
    The amplitude ``max_lr - base_lr`` is scaled by the policy: ``'triangular'``
    keeps it, ``'triangular2'`` halves it every cycle, ``'exp_range'`` multiplies
    it by ``gamma ** iteration``; a custom ``scale_fn`` replaces the policy and is
    evaluated on the cycle number or the iteration (``scale_mode``). With
    ``cycle_momentum``, the momentum (or Adam's ``beta1``) moves the opposite way,
    between ``max_momentum`` and ``base_momentum``.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        base_lr (float or list): lower bound of the rates (sets them on construction).
        max_lr (float or list): upper bound of the rates.
        step_size_up (int): steps of the rising half of a cycle (default: 2000).
        step_size_down (int, optional): steps of the falling half (default: as up).
        mode (str): ``'triangular'``, ``'triangular2'`` or ``'exp_range'``
            (default: 'triangular'); ignored with a ``scale_fn``.
        gamma (float): base of the ``'exp_range'`` scale (default: 1.0).
        scale_fn (callable, optional): custom scale, with values in [0, 1].
        scale_mode (str): ``'cycle'`` or ``'iterations'``, the argument of
            ``scale_fn`` (default: 'cycle').
        cycle_momentum (bool): cycle the momentum too (default: True).
        base_momentum (float or list): lower momentum bound (default: 0.8).
        max_momentum (float or list): upper momentum bound (default: 0.9).
        last_epoch (int): index of the last batch (default: -1).

    Example:
        >>> from ember.optim.lr_scheduler import CyclicLR
        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.01, momentum=0.9)
        >>> scheduler = CyclicLR(optimizer, base_lr=0.01, max_lr=0.1, step_size_up=2)
        >>> rates = []
        >>> for batch in range(6):
        ...     rates.append(round(scheduler.get_last_lr()[0], 6))
        ...     optimizer.step()
        ...     scheduler.step()  # after every batch
        >>> rates
        [0.01, 0.055, 0.1, 0.055, 0.01, 0.055]
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _momentum_support(optimizer)
            self.base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            self.max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            if last_epoch == -1:
                _init_momentum_groups(optimizer, self.use_beta1, self.base_momentums,
                                      self.max_momentums)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        # The built-in policies fix what the scale is a function of.
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x):
        """The amplitude scale at ``x`` (a cycle number or an iteration)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self):
        """The rates at the current batch; with ``cycle_momentum`` this also writes
        the matching momentum into the optimizer's groups."""
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            height = x / self.step_ratio
        else:
            height = (x - 1) / (self.step_ratio - 1)
        where = cycle if self.scale_mode == "cycle" else self.last_epoch
        # scale_fn is evaluated once per group and quantity, as torch does (a stateful
        # callable object sees the same calls).
        lrs = [low + (high - low) * height * self.scale_fn(where)
               for low, high in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            momentums = [high - (high - low) * height * self.scale_fn(where)
                         for low, high in zip(self.base_momentums, self.max_momentums)]
            for group, momentum in zip(self.optimizer.param_groups, momentums):
                _set_momentum(group, momentum, self.use_beta1)
        return lrs

    def state_dict(self):
        """The scheduler's attributes except the optimizer; a custom ``scale_fn`` is
        kept only as the attributes of a callable object (None for a function)."""
        state = super().state_dict()
        state["_scale_fn_custom"] = _callable_state(self._scale_fn_custom)
        return state

    def load_state_dict(self, state_dict):
        """Restore the attributes (and those of a callable-object ``scale_fn``)."""
        state = {k: v for k, v in state_dict.items() if k != "_scale_fn_custom"}
        super().load_state_dict(state)
        saved = state_dict.get("_scale_fn_custom")
        if saved is not None:
            self._scale_fn_custom.__dict__.update(saved)
        self._init_scale_fn()


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin 2017); call ``step()`` after every batch.

    The rate rises from ``max_lr / div_factor`` to ``max_lr`` over the first
    ``pct_start`` of the ``total_steps`` and then anneals to ``initial_lr /
    final_div_factor``. With ``three_phase`` it first returns to the initial rate
    symmetrically and anneals to the minimum in a third phase. With
    ``cycle_momentum`` the momentum (or Adam's ``beta1``) moves the opposite way
    between ``max_momentum`` and ``base_momentum``. Stepping past ``total_steps``
    raises ValueError. Not chainable: each step sets the rates from the schedule.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        max_lr (float or list): the peak rate, one or one per group.
        total_steps (int, optional): steps in the cycle; otherwise ``epochs *
            steps_per_epoch``.
        epochs (int, optional): epochs of training (with ``steps_per_epoch``).
        steps_per_epoch (int, optional): batches per epoch (with ``epochs``).
        pct_start (float): fraction of the cycle spent rising (default: 0.3).
        anneal_strategy (str): ``'cos'`` or ``'linear'`` (default: 'cos').
        cycle_momentum (bool): cycle the momentum too (default: True).
        base_momentum (float or list): lower momentum bound (default: 0.85).
        max_momentum (float or list): upper momentum bound (default: 0.95).
        div_factor (float): ``initial_lr = max_lr / div_factor`` (default: 25).
        final_div_factor (float): ``min_lr = initial_lr / final_div_factor``
            (default: 1e4).
        three_phase (bool): use the three-phase schedule (default: False).
        last_epoch (int): index of the last batch (default: -1).

    Example:
        >>> from ember.optim.lr_scheduler import OneCycleLR
        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.01, momentum=0.9)
        >>> scheduler = OneCycleLR(optimizer, max_lr=0.01, epochs=2, steps_per_epoch=4)
        >>> rates = []
        >>> for batch in range(8):
        ...     rates.append(round(scheduler.get_last_lr()[0], 6))
        ...     optimizer.step()
        ...     scheduler.step()  # after every batch
        >>> rates
        [0.0004, 0.008193, 0.009719, 0.008117, 0.00556, 0.002831, 0.000766, 0.0]
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            if total_steps <= 0 or not isinstance(total_steps, int):
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError("Expected positive integer steps_per_epoch, but got "
                                 f"{steps_per_epoch}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        rise_end = float(pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        # Each phase: (last step, group key of the start rate, of the end rate,
        # of the start momentum, of the end momentum).
        if three_phase:
            phases = [(rise_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                       "base_momentum", "max_momentum"),
                      (last, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            phases = [(rise_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      (last, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        keys = ("end_step", "start_lr", "end_lr", "start_momentum", "end_momentum")
        self._schedule_phases = [dict(zip(keys, phase)) for phase in phases]
        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._anneal_func_type = anneal_strategy
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _momentum_support(optimizer)
            max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                _init_momentum_groups(optimizer, self.use_beta1, base_momentums, max_momentums)
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _annealing_cos(start, end, pct):
        """From ``start`` (pct 0) to ``end`` (pct 1) along half a cosine."""
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)

    @staticmethod
    def _annealing_linear(start, end, pct):
        """From ``start`` (pct 0) to ``end`` (pct 1) along a line."""
        return (end - start) * pct + start

    def _anneal_func(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return self._annealing_cos(start, end, pct)
        return self._annealing_linear(start, end, pct)

    def get_lr(self):
        """The rates at the current batch; with ``cycle_momentum`` this also writes
        the matching momentum into the optimizer's groups."""
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps "
                             f"is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if step <= end or i == len(self._schedule_phases) - 1:
                    break
                start = end
            pct = (step - start) / (end - start)
            lrs.append(self._anneal_func(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                momentum = self._anneal_func(group[phase["start_momentum"]],
                                             group[phase["end_momentum"]], pct)
                _set_momentum(group, momentum, self.use_beta1)
        return lrs


# ---------------------------------------------------------------- combinations of schedulers

def _check_schedulers(owner, optimizer, schedulers):
    for i, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{owner} at index {i} should have `optimizer` as its attribute.")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(
                f"{owner} does not support `ReduceLROnPlateau` scheduler as it requires "
                "additional kwargs to be specified when calling `step`, but got one at index "
                f"{i} in the given schedulers sequence.")
        if optimizer != scheduler.optimizer:
            raise ValueError(
                f"{owner} expects all schedulers to belong to the same optimizer, but got "
                f"scheduler {type(scheduler).__name__} at index {i} has {scheduler.optimizer}, "
                f"which is different from {type(optimizer).__name__}.")


class _CompositeStateMixin:
    """State dict of a scheduler made of others: its own attributes plus theirs."""

    def state_dict(self):
        """Own attributes except the optimizer, with ``_schedulers`` as the wrapped
        schedulers' state dicts."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        """Restore the attributes and every wrapped scheduler's state."""
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "_schedulers"})
        for scheduler, saved in zip(self._schedulers, state_dict["_schedulers"]):
            scheduler.load_state_dict(saved)


class SequentialLR(_CompositeStateMixin, LRScheduler):
    """Run several schedulers one after the other, switching at the milestones.

    Scheduler ``i`` drives the rates from epoch ``milestones[i - 1]`` (0 for the
    first) until the next milestone; at its milestone it restarts from its epoch 0.

    Args:
        optimizer (Optimizer): wrapped optimizer (all schedulers must use it).
        schedulers (list): the schedulers, in order.
        milestones (list): the ``len(schedulers) - 1`` switching epochs.
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> from ember.optim.lr_scheduler import ConstantLR, ExponentialLR, SequentialLR
        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.05)
        >>> warmup = ConstantLR(optimizer, factor=0.1, total_iters=2)
        >>> decay = ExponentialLR(optimizer, gamma=0.9)
        >>> scheduler = SequentialLR(optimizer, [warmup, decay], milestones=[2])
        >>> rates = []
        >>> for epoch in range(5):
        ...     rates.append(round(scheduler.get_last_lr()[0], 6))
        ...     optimizer.step()
        ...     scheduler.step()
        >>> rates
        [0.005, 0.005, 0.05, 0.045, 0.0405]
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler, but got no scheduler.")
        _check_schedulers(name, optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more than "
                f"the number of milestone points, but got number of schedulers {len(schedulers)} "
                f"and the number of milestones to be equal to {len(milestones)}")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # The wrapped schedulers already took their constructor steps: go back to the
        # initial rates and epochs, then let only the first scheduler take its step.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def recursive_undo(self, sched=None):
        """Take back the constructor step of every (nested) wrapped scheduler."""
        target = self if sched is None else sched
        if hasattr(target, "_schedulers"):
            for inner in target._schedulers:
                self.recursive_undo(inner)
        elif hasattr(target, "last_epoch"):
            target.last_epoch -= 1

    def step(self):
        """Advance one epoch with the scheduler in charge of it."""
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_CompositeStateMixin, LRScheduler):
    """Step several chainable schedulers together: one ``step()`` steps each in turn,
    so their effects on the rates multiply.

    Args:
        schedulers (sequence): the schedulers to chain.
        optimizer (Optimizer, optional): their optimizer (default: the first
            scheduler's).

    Example:
        >>> from ember.optim.lr_scheduler import ChainedScheduler, ConstantLR, ExponentialLR
        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.05)
        >>> s1 = ConstantLR(optimizer, factor=0.1, total_iters=2)
        >>> s2 = ExponentialLR(optimizer, gamma=0.9)
        >>> scheduler = ChainedScheduler([s1, s2], optimizer=optimizer)
        >>> rates = []
        >>> for epoch in range(4):
        ...     rates.append(round(scheduler.get_last_lr()[0], 6))
        ...     optimizer.step()
        ...     scheduler.step()
        >>> rates
        [0.005, 0.0045, 0.0405, 0.03645]
    """

    def __init__(self, schedulers, optimizer=None):
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler to be chained, but got no "
                             "scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        _check_schedulers(name, optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = _lrs(schedulers[-1].optimizer)

    def step(self):
        """Step every chained scheduler once, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = _lrs(self._schedulers[-1].optimizer)
