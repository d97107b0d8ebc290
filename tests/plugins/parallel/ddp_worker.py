"""Run under ``mpiexec -n 2``: DistributedDataParallel cases, each comparing what the ranks
end with against single-process training computed in the same rank. Rank 0 prints one
JSON line ``{case: [max difference or error text, ...per rank]}`` for test_ddp.py."""

import copy
import json
import sys
import traceback
import warnings

import numpy as np

import ember
from ember import distributed as dist
from ember import nn

STEPS = 5
GLOBAL_BATCH = 8


def mlp():
    return nn.Sequential(nn.Linear(6, 10), nn.Tanh(), nn.Linear(10, 3))


def cnn(norm=nn.BatchNorm2d):
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), norm(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 3 * 3, 3))


def batches(shape, seed=1):
    """STEPS global batches of inputs and regression targets, the same on every rank."""
    rng = np.random.default_rng(seed)
    return [(ember.from_numpy(rng.standard_normal((GLOBAL_BATCH,) + shape)),
             ember.from_numpy(rng.standard_normal((GLOBAL_BATCH, 3)))) for _ in range(STEPS)]


def my_half(t):
    rank, world = dist.get_rank(), dist.get_world_size()
    share = t.shape[0] // world
    return t[rank * share:(rank + 1) * share]


def state_difference(a, b, buffers=True):
    """The largest absolute difference between two modules' parameters (and buffers)."""
    pairs = list(zip(a.parameters(), b.parameters()))
    if buffers:
        pairs += list(zip(a.buffers(), b.buffers()))
    return max(float((x.detach().double() - y.detach().double()).abs().max().item()) for x, y in pairs)


def train(model, data, local):
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in data:
        if local:
            x, y = my_half(x), my_half(y)
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()


def whole_batch_case(build, shape, convert=None):
    """DDP on halves of each batch ends where one process on whole batches does."""
    ember.manual_seed(0)
    reference = build().double()
    model = copy.deepcopy(reference)
    if convert:
        model = convert(model)
    data = batches(shape)
    train(reference, data, local=False)
    ddp = nn.parallel.DistributedDataParallel(model)
    train(ddp, data, local=True)
    return state_difference(ddp.module, reference)


def case_mlp_float64():
    return whole_batch_case(mlp, (6,))


def case_cnn_sync_batchnorm_float64():
    return whole_batch_case(cnn, (2, 6, 6), nn.SyncBatchNorm.convert_sync_batchnorm)


def case_cnn_batchnorm_local_statistics():
    """Plain BatchNorm: each rank normalizes its half with its own statistics; rank 0's
    running statistics win (broadcast_buffers). The reference does just that in one
    process: the gradient is the mean of the two halves' gradients. The other ranks'
    buffers hold their own last update (the next forward replaces them)."""
    ember.manual_seed(0)
    reference = cnn().double()
    model = copy.deepcopy(reference)
    data = batches((2, 6, 6))
    optimizer = ember.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    world = dist.get_world_size()
    for x, y in data:
        optimizer.zero_grad()
        before = copy.deepcopy(list(reference.buffers()))
        for part in reversed(range(world)):     # rank 0's half last: its statistics stay
            with ember.no_grad():
                for buffer, saved in zip(reference.buffers(), before):
                    buffer.copy_(saved)
            share = GLOBAL_BATCH // world
            piece = slice(part * share, (part + 1) * share)
            (nn.functional.mse_loss(reference(x[piece]), y[piece]) / world).backward()
        optimizer.step()
    ddp = nn.parallel.DistributedDataParallel(model)
    train(ddp, data, local=True)
    return state_difference(ddp.module, reference, buffers=dist.get_rank() == 0)


def case_no_sync_accumulation():
    """Two local backward passes inside no_sync, then one synchronized: the same
    gradients as one process summing the three whole-batch losses."""
    ember.manual_seed(0)
    reference = mlp().double()
    model = copy.deepcopy(reference)
    data = batches((6,))[:3]
    for x, y in data:
        nn.functional.mse_loss(reference(x), y).backward()
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0001)
    with ddp.no_sync():
        for x, y in data[:2]:
            nn.functional.mse_loss(ddp(my_half(x)), my_half(y)).backward()
    unsynced = [p.grad.clone() for p in ddp.module.parameters()]
    x, y = data[2]
    nn.functional.mse_loss(ddp(my_half(x)), my_half(y)).backward()
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, [g.numpy() for g in unsynced])
    differ = len(everyone) == 1 or any(not np.array_equal(a, b) for a, b in zip(everyone[0], everyone[1]))
    worst = max(float((p.grad - q.grad).abs().max().item())
                for p, q in zip(ddp.module.parameters(), reference.parameters()))
    return worst if differ else "no_sync did not keep the gradients local"


class Branchy(nn.Module):
    """A net whose ``spare`` layer is used only on the ranks told to, and whose
    ``unused`` layer never is."""

    def __init__(self):
        super().__init__()
        self.body, self.spare, self.unused = nn.Linear(6, 3), nn.Linear(6, 3), nn.Linear(6, 3)

    def forward(self, x, use_spare):
        out = self.body(x)
        return out + self.spare(x) if use_spare else out


def case_find_unused_parameters():
    """A layer used on rank 0 only gets rank 0's gradient averaged over the ranks (so
    halved) on every rank; a layer no rank used keeps no gradient; the reference sums
    each rank's loss, divided by the world size, in one process."""
    ember.manual_seed(0)
    reference = Branchy().double()
    model = copy.deepcopy(reference)
    x, y = batches((6,))[0]
    rank, world = dist.get_rank(), dist.get_world_size()
    ddp = nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
    nn.functional.mse_loss(ddp(my_half(x), rank == 0), my_half(y)).backward()
    share = GLOBAL_BATCH // world
    for r in range(world):
        piece = slice(r * share, (r + 1) * share)
        (nn.functional.mse_loss(reference(x[piece], r == 0), y[piece]) / world).backward()
    if any(p.grad is not None for p in ddp.module.unused.parameters()):
        return "a parameter no rank used got a gradient"
    return max(float((p.grad - q.grad).abs().max().item())
               for p, q in zip(list(ddp.module.body.parameters()) + list(ddp.module.spare.parameters()),
                               list(reference.body.parameters()) + list(reference.spare.parameters())))


def case_unused_parameter_without_search_raises():
    ember.manual_seed(0)
    ddp = nn.parallel.DistributedDataParallel(Branchy().double())
    x, y = batches((6,))[0]
    nn.functional.mse_loss(ddp(my_half(x), False), my_half(y)).backward()
    try:
        ddp(my_half(x), False)
    except RuntimeError as error:
        return 0.0 if "find_unused_parameters=True" in str(error) and "spare.weight" in str(error) else str(error)
    return "no error for a parameter without gradient"


def case_different_shapes_raise():
    width = 2 + dist.get_rank()
    try:
        nn.parallel.DistributedDataParallel(nn.Linear(4, width))
    except RuntimeError as error:
        return 0.0 if "same model across all ranks" in str(error) else str(error)
    return "no error for different parameter shapes"


def case_rank0_state_broadcast_at_construction():
    ember.manual_seed(dist.get_rank())
    model = cnn()
    ember.manual_seed(0)
    rank0 = cnn()
    with ember.no_grad():
        for b in model.buffers():
            b.add_(dist.get_rank())
    ddp = nn.parallel.DistributedDataParallel(model)
    return state_difference(ddp.module, rank0)


def case_gradient_as_bucket_view_and_small_buckets():
    ember.manual_seed(0)
    reference = mlp().double()
    model = copy.deepcopy(reference)
    data = batches((6,))
    train(reference, data, local=False)
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0002, gradient_as_bucket_view=True)
    if len(ddp.reducer.buckets) < 2:
        return "expected several buckets"
    train(ddp, data, local=True)
    return state_difference(ddp.module, reference)


def case_float32_mlp():
    ember.manual_seed(0)
    reference = mlp()
    model = copy.deepcopy(reference)
    data = [(x.float(), y.float()) for x, y in batches((6,))]
    train(reference, data, local=False)
    ddp = nn.parallel.DistributedDataParallel(model)
    train(ddp, data, local=True)
    return state_difference(ddp.module, reference)


def case_distributed_data_parallel_cpu_alias():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ddp = nn.parallel.DistributedDataParallelCPU(mlp())
    if not any(issubclass(w.category, FutureWarning) for w in caught):
        return "no FutureWarning"
    return 0.0 if isinstance(ddp, nn.parallel.DistributedDataParallel) else "not a DistributedDataParallel"


def case_argument_errors():
    """torch's exception types and messages, raised on every rank before any collective."""
    DDP = nn.parallel.DistributedDataParallel
    frozen = mlp().requires_grad_(False)
    checks = [(lambda: DDP(frozen), RuntimeError, "doesn't have any parameter that requires a gradient"),
              (lambda: DDP(mlp(), device_ids=[0, 1]), ValueError, "device_ids can only be None or contain a single"),
              (lambda: DDP(mlp(), device_ids=[0]), ValueError, "only work with single-device/multiple-device GPU"),
              (lambda: DDP(mlp(), output_device=0), ValueError, "only work with single-device/multiple-device GPU")]
    for build, kind, words in checks:
        try:
            build()
        except kind as error:
            if words not in str(error):
                return f"{kind.__name__} without {words!r}: {error}"
        else:
            return f"no {kind.__name__} ({words})"
    return 0.0


def main():
    dist.init_process_group("mpi")
    results = {}
    for name, case in sorted(globals().items()):
        if name.startswith("case_") and (len(sys.argv) < 2 or name[5:] in sys.argv[1:]):
            try:
                results[name[5:]] = case()
            except Exception:
                results[name[5:]] = traceback.format_exc()
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, results)
    if dist.get_rank() == 0:
        print(json.dumps({name: [r[name] for r in everyone] for name in results}))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
