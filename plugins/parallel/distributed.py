"""``DistributedDataParallel``: data parallelism across processes (ranks), each training a
replica of the model on its share of every batch, with gradients averaged across ranks
during backward so that every replica takes the same optimizer step."""

import contextlib
import warnings

import ember
from ember import distributed as dist
from ember.autograd.graph import edge_of
from ember.nn import Module

from .buckets import DEFAULT_BUCKET_CAP_MB, FIRST_BUCKET_BYTES, bucket_layout
from .coalesced import broadcast_coalesced
from .reducer import Reducer

_MB = 1024 * 1024


def _tensors_in(value):
    """Every tensor in a (nested) output: tensors, lists, tuples, dicts."""
    if isinstance(value, ember.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item)


def _reached_leaves(outputs):
    """The ids of the leaf tensors that backward from ``outputs`` would reach."""
    seen, leaves = set(), set()
    stack = [edge_of(t) for t in _tensors_in(outputs)]
    while stack:
        edge = stack.pop()
        if edge is None or edge[0] in seen:
            continue
        node = edge[0]
        seen.add(node)
        ref = getattr(node, "tensor_ref", None)
        if ref is not None:
            leaf = ref()
            if leaf is not None:
                leaves.add(id(leaf))
            continue
        stack.extend(node.next_edges)
    return leaves


def _moved(value, device):
    """``value`` with every tensor in it moved to ``device``."""
    if isinstance(value, ember.Tensor):
        return value.to(device)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_moved(item, device) for item in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_moved(item, device) for item in value)
    if isinstance(value, dict):
        return type(value)((key, _moved(item, device)) for key, item in value.items())
    return value


class DistributedDataParallel(Module):
    """Data parallelism across processes: wrap the model in each rank of a distributed
    job (``ember.distributed.init_process_group`` first) and train each wrapper on the
    rank's own share of every batch (see ``ember.utils.data.DistributedSampler``).

    At construction the ranks check that they hold the same parameters (shapes and
    dtypes), and rank 0's parameters and buffers are copied to every rank. In each
    forward, rank 0's buffers are copied again (``broadcast_buffers``). During backward,
    the gradients are averaged across ranks in buckets of about ``bucket_cap_mb``
    megabytes, each all-reduced as soon as its gradients are ready, so communication
    overlaps the rest of backward; when ``backward()`` returns, every rank holds the same
    averaged gradients, and an optimizer step keeps the replicas equal.

    Args:
        module: the model (its parameters on one device: the CPU, or one GPU).
        device_ids: for a GPU model, the one device it lives on (``[i]``); None for CPU.
        output_device: where outputs go (the GPU model's device by default).
        dim: kept for torch's signature (the batch dimension). Default: 0.
        broadcast_buffers: copy rank 0's buffers to every rank in each forward. Default: True.
        init_sync: copy rank 0's parameters and buffers at construction. Default: True.
        process_group: the group to average over (default: the whole job).
        bucket_cap_mb: bucket size in MiB. Default: 25 (with a 1 MiB first bucket).
        find_unused_parameters: after each forward, look for the parameters the
            outputs do not depend on, and let their buckets go without them
            (they keep their gradient if no rank used them). Default: False: every
            parameter must get a gradient in every backward pass.
        check_reduction: accepted for torch's signature (ember always checks).
        gradient_as_bucket_view: leave each ``.grad`` as a view into its bucket
            (saves one copy per step). Default: False.
        static_graph: accepted for torch's signature (no effect).

    Example (run with ``python -m ember.distributed.run --nproc-per-node 2 train.py``)::

        dist.init_process_group("mpi")
        model = nn.parallel.DistributedDataParallel(net)
        loss_fn(model(inputs), targets).backward()   # gradients averaged over ranks
        optimizer.step()
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 init_sync=True, process_group=None, bucket_cap_mb=None, find_unused_parameters=False,
                 check_reduction=False, gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any "
                               "parameter that requires a gradient.")
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError("device_ids can only be None or contain a single element.")
        devices = {p.device for _, p in named}
        kinds = {d.type for d in devices}
        if len(kinds) != 1:
            raise ValueError("DistributedDataParallel's input module must be on the same type of devices, "
                             f"but input module parameters locate in {kinds}.")
        if not device_ids or kinds == {"cpu"} or len(devices) > 1:
            if device_ids or output_device is not None:
                raise ValueError(
                    "DistributedDataParallel device_ids and output_device arguments only work with "
                    "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                    f"{device_ids}, output_device {output_device}, and module parameters {devices}.")
            self.device_ids = self.output_device = None
        else:
            kind = kinds.pop()
            as_device = lambda d: ember.device(kind, d) if isinstance(d, int) else ember.device(d)  # noqa: E731
            self.device_ids = [as_device(i) for i in device_ids]
            self.output_device = self.device_ids[0] if output_device is None else as_device(output_device)
        self.module = module
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.process_group = dist.group.WORLD if process_group is None else process_group
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.check_reduction = check_reduction
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        cap = DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
        self.bucket_bytes_cap = int(cap * _MB)
        first = FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap

        self._verify_same_parameters(named)
        if init_sync:
            broadcast_coalesced(self._state(), self._root(), self.process_group)
        self.reducer = Reducer(named, bucket_layout([p for _, p in named], self.bucket_bytes_cap, first),
                               self.process_group, gradient_as_bucket_view)

    def _root(self):
        """The global rank of the group's first member, whose state every rank takes."""
        return dist.get_global_rank(self.process_group, 0)

    def _state(self):
        return [p.detach() for p in self.module.parameters()] + list(self.module.buffers())

    def _verify_same_parameters(self, named):
        mine = [(tuple(p.shape), str(p.dtype)) for _, p in named]
        everyone = [None] * dist.get_world_size(self.process_group)
        dist.all_gather_object(everyone, mine, group=self.process_group)
        reference = everyone[0]
        for rank, theirs in enumerate(everyone):
            if len(theirs) != len(reference):
                raise RuntimeError(f"DDP expects same model across all ranks, but Rank {rank} has "
                                   f"{len(theirs)} params, while rank 0 has inconsistent {len(reference)} params.")
            for i, (spec, ref) in enumerate(zip(theirs, reference)):
                if spec != ref:
                    raise RuntimeError(
                        f"DDP expects same model across all ranks: parameter {i} ({named[i][0]}) has "
                        f"shape {list(spec[0])} and dtype {spec[1]} in process {rank}, which does not "
                        f"match shape {list(ref[0])} and dtype {ref[1]} of the same parameter in process 0.")

    def forward(self, *inputs, **kwargs):
        """Run the wrapped module (after taking rank 0's buffers) and arm the gradient
        averaging for the backward pass that follows."""
        if self.device_ids:
            inputs, kwargs = _moved(inputs, self.device_ids[0]), _moved(kwargs, self.device_ids[0])
        if self.broadcast_buffers and self.require_forward_param_sync:
            buffers = list(self.module.buffers())
            if buffers:
                broadcast_coalesced(buffers, self._root(), self.process_group)
        output = self.module(*inputs, **kwargs)
        if ember.is_grad_enabled() and self.require_backward_grad_sync:
            unused = None
            if self.find_unused_parameters:
                reached = _reached_leaves(output)
                unused = [p for p in self.module.parameters() if p.requires_grad and id(p) not in reached]
            self.reducer.prepare(unused)
        if self.output_device is not None:
            output = _moved(output, self.output_device)
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Inside this context, backward passes accumulate gradients locally without
        averaging them; the first backward after it averages the sum."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous


class DistributedDataParallelCPU(DistributedDataParallel):
    """PyTorch 1.0's DistributedDataParallel for CPU models; now the same as
    :class:`DistributedDataParallel` (deprecated, as in torch)."""

    def __init__(self, *args, **kwargs):
        warnings.warn("`ember.nn.parallel.DistributedDataParallelCPU` is deprecated, please use "
                      "`ember.nn.parallel.DistributedDataParallel` instead.", FutureWarning, stacklevel=2)
        super().__init__(*args, **kwargs)
