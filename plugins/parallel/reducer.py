"""The reducer of DistributedDataParallel: it follows the gradients of one backward pass,
starts each bucket's all-reduce once the bucket is complete (in bucket order on every
rank, as MPI requires the same order of collectives everywhere), and at the end of the
pass waits for them and writes the averaged gradients back."""

import weakref

import ember
from ember import distributed as dist
from ember.autograd.engine import queue_callback

from .buckets import Bucket

UNUSED_PARAMETERS_ERROR = (
    "Expected to have finished reduction in the prior iteration before starting a new one. "
    "This error indicates that your module has parameters that were not used in producing loss. "
    "You can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `ember.nn.parallel.DistributedDataParallel`, and by making "
    "sure all `forward` function outputs participate in calculating loss. Parameters that did not "
    "receive a gradient on rank {rank}: {names}")


class Reducer:
    """Averages the gradients of ``named_params`` across ``group`` during backward."""

    def __init__(self, named_params, layout, group, gradient_as_bucket_view):
        self.names = {id(p): name for name, p in named_params}
        self.buckets = [Bucket(params) for params in layout]
        self.where = {id(p): (b, i) for b, bucket in enumerate(self.buckets) for i, p in enumerate(bucket.params)}
        self.group = group
        self.world_size = dist.get_world_size(group)
        self.as_view = gradient_as_bucket_view
        self.unused = None
        self._reset()
        self.enabled = False
        self.failure = None
        ref = weakref.ref(self)

        def grad_ready(param):
            reducer = ref()
            if reducer is not None:
                reducer._grad_ready(param)

        handles = [p.register_post_accumulate_grad_hook(grad_ready) for _, p in named_params]
        weakref.finalize(self, lambda: [handle.remove() for handle in handles])

    def _reset(self):
        self.pending = [len(bucket.params) for bucket in self.buckets]
        self.next_bucket = 0
        self.ready = set()
        self.in_pass = False

    def prepare(self, unused_params):
        """Arm the reducer for the next backward pass; ``unused_params`` (or None, when
        unused parameters are not searched for) will get no gradient in it."""
        if self.failure is not None:
            raise RuntimeError(self.failure)
        for bucket in self.buckets:
            bucket.abandon()
        self._reset()
        self.enabled = True
        self.unused = None if unused_params is None else {id(p) for p in unused_params}
        for p in unused_params or ():
            self._mark(p)

    def _grad_ready(self, param):
        if not self.enabled or id(param) in self.ready:
            return
        if not self.in_pass:
            self.in_pass = True
            queue_callback(self._finish)
        self._mark(param)

    def _mark(self, param):
        b, _ = self.where[id(param)]
        self.ready.add(id(param))
        self.pending[b] -= 1
        while self.next_bucket < len(self.buckets) and not self.pending[self.next_bucket]:
            self.buckets[self.next_bucket].start(self.group, self.world_size, self.as_view)
            self.next_bucket += 1

    def _finish(self):
        self.enabled = False
        launched = self.buckets[:self.next_bucket]
        used = self._globally_used()
        for bucket in launched:
            bucket.finish(used, self.as_view)
        if self.next_bucket < len(self.buckets):
            missing = [self.names[id(p)] for bucket in self.buckets[self.next_bucket:] for p in bucket.params
                       if id(p) not in self.ready]
            self.failure = UNUSED_PARAMETERS_ERROR.format(rank=dist.get_rank(self.group), names=missing)

    def _globally_used(self):
        """A test of whether some rank gave a parameter a gradient in this pass (when
        unused parameters are searched for; else every parameter counts as used)."""
        if self.unused is None:
            return lambda p: True
        order = [p for bucket in self.buckets for p in bucket.params]
        flags = ember.tensor([0 if id(p) in self.unused else 1 for p in order], dtype=ember.int32,
                             device=order[0].device)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX, group=self.group)
        used = {id(p) for p, flag in zip(order, flags.tolist()) if flag}
        return lambda p: id(p) in used
