"""Run on 2 ranks (``mpiexec -n 2 python -m tests.core.distributed.collectives_worker``):
every collective with every op and dtype against NumPy on the ranks' inputs, blocking
and async; version counters and autograd; groups with a non-member; object
collectives; argument errors; mismatches across ranks.

Every rank can make every rank's input (``rank_input``), so each checks its own
result against NumPy's computation on all the inputs.
"""

import warnings
import zlib
from datetime import timedelta

import numpy as np

import ember
from ember import distributed as dist
from tests.core.distributed.harness import raises, report, run_cases

DTYPES = ("float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool")
OPS = ("SUM", "PRODUCT", "MIN", "MAX", "AVG", "BAND", "BOR", "BXOR")
REDUCING = ("all_reduce", "reduce", "reduce_scatter")
MOVING = ("broadcast", "all_gather", "gather", "scatter")
WORLD = 2
ROOT = 1  # a root other than 0 catches global/group rank mix-ups
SHAPE = (3, 4)
rank = -1  # set by main()


def rank_input(of_rank, dtype, salt):
    """Rank ``of_rank``'s input: small integers (exact in every dtype), different per rank."""
    rng = np.random.default_rng([of_rank, salt])
    if dtype == "bool":
        return rng.integers(0, 2, SHAPE).astype(bool)
    return rng.integers(0 if dtype == "uint8" else -3, 4, SHAPE).astype(dtype)


def everyone(dtype, salt):
    return np.stack([rank_input(r, dtype, salt) for r in range(WORLD)])


def reduced(stack, op, dtype):
    """NumPy's reduction of ``stack`` over its first axis, as the collectives define it."""
    if dtype == "bool":
        logical = {"SUM": np.logical_or, "MAX": np.logical_or, "BOR": np.logical_or, "PRODUCT": np.logical_and,
                   "MIN": np.logical_and, "BAND": np.logical_and, "BXOR": np.logical_xor}[op]
        return logical.reduce(stack, axis=0)
    wide = stack.astype(np.float32) if dtype == "float16" else stack
    if op == "AVG":
        total = np.add.reduce(wide, axis=0).astype(wide.dtype)
        if wide.dtype.kind == "f":
            return (total / len(stack)).astype(dtype)
        return (np.sign(total) * (np.abs(total) // len(stack))).astype(dtype)
    ufunc = {"SUM": np.add, "PRODUCT": np.multiply, "MIN": np.minimum, "MAX": np.maximum,
             "BAND": np.bitwise_and, "BOR": np.bitwise_or, "BXOR": np.bitwise_xor}[op]
    return ufunc.reduce(wide, axis=0).astype(dtype)


def refused(op, dtype):
    """The error a valid call gets for ``op`` on ``dtype``, as a (type, message) pair, or None."""
    if op in ("BAND", "BOR", "BXOR") and dtype.startswith("float"):
        return RuntimeError, f"Cannot use ReduceOp.{op} with non-integral dtype"
    if op == "AVG" and dtype == "bool":
        return RuntimeError, "Cannot use ReduceOp.AVG with boolean inputs"
    return None


def tensor(array):
    return ember.from_numpy(np.array(array))


def run(collective, async_op, *args, **kwargs):
    """Call ``collective``; with ``async_op``, check the handle and wait for it."""
    if not async_op:
        assert collective(*args, **kwargs) is None
        return
    work = collective(*args, async_op=True, **kwargs)
    assert isinstance(work, dist.Work), work
    assert work.wait() is True
    assert work.is_completed() and work.is_success()


def check(got, expected):
    np.testing.assert_array_equal(got.numpy(), expected)
    assert got.numpy().dtype == expected.dtype, (got.numpy().dtype, expected.dtype)
    if expected.dtype == np.bool_:  # a bool byte must stay 0 or 1 (an MPI sum would make 2)
        np.testing.assert_array_equal(got.numpy().view(np.uint8), expected.view(np.uint8))


# ----------------------------------------------------------------- every collective
def reducing_case(collective, op, dtype, async_op, salt):
    reduce_op = getattr(dist.ReduceOp, op)

    def case():
        mine = tensor(rank_input(rank, dtype, salt))
        if collective == "reduce_scatter":
            inputs = [tensor(rank_input(rank, dtype, salt + 1 + i)) for i in range(WORLD)]
            call, args, expected = dist.reduce_scatter, (mine, inputs), lambda: everyone(dtype, salt + 1 + rank)
        elif collective == "reduce":
            call, args, expected = dist.reduce, (mine, ROOT), lambda: everyone(dtype, salt)
        else:
            call, args, expected = dist.all_reduce, (mine,), lambda: everyone(dtype, salt)
        error = refused(op, dtype)
        if error:
            raises(*error, call, *args, op=reduce_op, async_op=async_op)
            return
        run(call, async_op, *args, op=reduce_op)
        if collective == "reduce" and rank != ROOT:
            check(mine, rank_input(rank, dtype, salt))  # left as it was
        else:
            check(mine, reduced(expected(), op, dtype))

    return case


def moving_case(collective, dtype, async_op, salt):
    def case():
        mine = tensor(rank_input(rank, dtype, salt))
        if collective == "broadcast":
            run(dist.broadcast, async_op, mine, ROOT)
            check(mine, rank_input(ROOT, dtype, salt))
        elif collective == "all_gather":
            outputs = [tensor(np.zeros(SHAPE, dtype)) for _ in range(WORLD)]
            run(dist.all_gather, async_op, outputs, mine)
            for r, out in enumerate(outputs):
                check(out, rank_input(r, dtype, salt))
        elif collective == "gather":
            outputs = [tensor(np.zeros(SHAPE, dtype)) for _ in range(WORLD)] if rank == ROOT else None
            run(dist.gather, async_op, mine, outputs, dst=ROOT)
            for r, out in enumerate(outputs or ()):
                check(out, rank_input(r, dtype, salt))
        else:
            parts = [tensor(rank_input(rank, dtype, salt + 1 + i)) for i in range(WORLD)] if rank == ROOT else None
            run(dist.scatter, async_op, mine, parts, src=ROOT)
            check(mine, rank_input(ROOT, dtype, salt + 1 + rank))

    return case


def every_collective():
    cases = {}
    for async_op in (False, True):
        mode = ",async" if async_op else ""
        for dtype in DTYPES:
            for collective in REDUCING:
                for op in OPS:
                    name = f"{collective}[{op},{dtype}{mode}]"
                    cases[name] = reducing_case(collective, op, dtype, async_op, zlib.crc32(name.encode()))
            for collective in MOVING:
                name = f"{collective}[{dtype}{mode}]"
                cases[name] = moving_case(collective, dtype, async_op, zlib.crc32(name.encode()))
    return cases


# ----------------------------------------------------------------- handles, shapes, autograd
def async_overlaps_computation():
    big = ember.full((1_000_000,), float(rank + 1))
    work = dist.all_reduce(big, async_op=True)
    a = np.random.default_rng(rank).standard_normal((200, 200))
    for _ in range(20):
        a = a @ a.T / np.abs(a).max()
        work.is_completed()
    work.wait()
    assert float(big[0]) == float(sum(range(1, WORLD + 1))) and float(big[-1]) == float(big[0])


def empty_and_scalar_tensors():
    empty = ember.zeros(0)
    dist.all_reduce(empty)
    assert empty.shape == (0,)
    scalar = ember.tensor(float(rank + 1))
    dist.all_reduce(scalar, op=dist.ReduceOp.PRODUCT)
    assert float(scalar) == 2.0


def barrier_blocking_async_and_timeout():
    assert dist.barrier() is None
    run(dist.barrier, True)
    assert dist.barrier(timeout=timedelta(seconds=5)) is None


def version_counter_moves_and_autograd_sees_it():
    x = ember.ones(3, requires_grad=True)
    y = x * x  # saves x
    before = x._version
    dist.all_reduce(x)
    assert x._version == before + 1
    assert x.requires_grad and x.is_leaf and x.grad_fn is None
    raises(RuntimeError, "inplace", y.sum().backward)


def non_leaf_keeps_its_graph():
    x = ember.ones(3, requires_grad=True)
    z = x * 2
    grad_fn = z.grad_fn
    dist.all_reduce(z)
    assert z.grad_fn is grad_fn
    z.sum().backward()  # z was not saved by anything: its backward still runs
    check(x.grad, np.full(3, 2.0, np.float32))


def outputs_of_broadcast_on_root_keep_their_version():
    t = ember.ones(2)
    before = t._version
    dist.broadcast(t, 0)
    assert t._version == before + (0 if rank == 0 else 1)


# ----------------------------------------------------------------- groups
def subgroup_with_a_non_member():
    g = dist.new_group([1])
    t = ember.full((2,), float(rank + 1))
    if rank == 0:
        assert g is dist.GroupMember.NON_GROUP_MEMBER
        assert dist.get_rank(g) == -1 and dist.get_world_size(g) == -1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert dist.all_reduce(t, group=g) is None
            assert dist.all_reduce(t, group=g, async_op=True) is None
            assert dist.broadcast(t, 1, group=g) is None
            assert dist.all_gather_object([None], "x", group=g) is None
        assert len(caught) == 4 and "does not belong to the given group" in str(caught[0].message)
        check(t, np.full(2, 1.0, np.float32))
        raises(ValueError, "Invalid process group", dist.get_backend, g)
        assert dist.destroy_process_group(g) is None
        return
    assert dist.get_rank(g) == 0 and dist.get_world_size(g) == 1 and dist.get_backend(g) == "mpi"
    assert dist.get_process_group_ranks(g) == [1]
    assert dist.get_global_rank(g, 0) == 1 and dist.get_group_rank(g, 1) == 0
    dist.all_reduce(t, group=g)
    dist.broadcast(t, 1, group=g)
    check(t, np.full(2, 2.0, np.float32))
    raises(ValueError, "not part of group", dist.broadcast, t, 0, group=g)
    dist.destroy_process_group(g)
    raises(ValueError, "Invalid process group", dist.all_reduce, t, group=g)


def subgroup_in_given_order():
    g = dist.new_group([1, 0], sort_ranks=False)
    assert dist.get_rank(g) == 1 - rank and dist.get_process_group_ranks(g) == [1, 0]
    t = ember.full((2,), float(rank))
    dist.broadcast(t, group_src=0, group=g)  # group rank 0 is global rank 1
    check(t, np.full(2, 1.0, np.float32))
    t = ember.full((2,), float(rank + 1))
    dist.reduce(t, dst=0, group=g, op=dist.ReduceOp.MAX)
    check(t, np.full(2, 2.0 if rank == 0 else 2.0, np.float32))
    outputs = [ember.zeros(1) for _ in range(WORLD)]
    dist.all_gather(outputs, ember.full((1,), float(rank)), group=g)
    assert [float(o) for o in outputs] == [1.0, 0.0]
    dist.destroy_process_group(g)


def new_group_errors_and_timeout():
    raises(ValueError, "duplicate", dist.new_group, [0, 0])
    raises(ValueError, "out of range", dist.new_group, [0, 5])
    raises(TypeError, "timedelta", dist.new_group, [0, 1], timeout=5)
    raises(ValueError, "use_local_synchronization", dist.new_group, [0, 1], use_local_synchronization=True)
    raises(ValueError, "Unknown backend", dist.new_group, [0, 1], backend="gloo")
    g = dist.new_group(timeout=timedelta(seconds=7))
    assert g.timeout == timedelta(seconds=7) and dist.get_world_size(g) == WORLD
    dist.destroy_process_group(g)


def world_queries():
    assert dist.is_initialized() and dist.get_rank() == rank and dist.get_world_size() == WORLD
    assert dist.get_backend() == dist.Backend.MPI == "mpi"
    assert dist.group.WORLD is dist.GroupMember.WORLD and dist.get_rank(dist.group.WORLD) == rank


# ----------------------------------------------------------------- objects
def all_gather_object_case():
    got = [None] * WORLD
    dist.all_gather_object(got, {"rank": rank, "items": list(range(rank + 1)), "text": "ü" * rank})
    assert got == [{"rank": r, "items": list(range(r + 1)), "text": "ü" * r} for r in range(WORLD)]


def gather_object_case():
    got = [None] * WORLD if rank == ROOT else None
    dist.gather_object(("from", rank), got, dst=ROOT)
    assert got == ([("from", r) for r in range(WORLD)] if rank == ROOT else None)


def broadcast_object_list_case():
    big = bytes(range(256)) * 4096
    objects = [{"a": [1, 2]}, big, None] if rank == ROOT else [None, None, None]
    dist.broadcast_object_list(objects, src=ROOT)
    assert objects == [{"a": [1, 2]}, big, None]


def object_argument_errors():
    if rank == 0:
        raises(ValueError, "must be specified on destination", dist.gather_object, 1, None, 0)
    else:
        raises(ValueError, "must NOT be specified", dist.gather_object, 1, [None, None], 0)


# ----------------------------------------------------------------- argument errors
def argument_errors():
    t = ember.ones(4)
    raises(TypeError, "Expected parameter `tensor`", dist.all_reduce, [1.0, 2.0])
    raises(TypeError, "Expected parameter `tensor_list`", dist.all_gather, t, t)
    raises(TypeError, "Expected parameter `input_list`", dist.reduce_scatter, t, (t, t))
    raises(ValueError, "different dtypes", dist.all_gather, [ember.ones(4, dtype=ember.float64)] * 2, t)
    raises(ValueError, "different dtypes", dist.reduce_scatter, t, [t, ember.ones(4, dtype=ember.int64)])
    raises(RuntimeError, "contiguous", dist.all_reduce, ember.ones(3, 4).t())
    raises(RuntimeError, "contiguous", dist.all_gather, [ember.zeros(4, 2).t(), ember.zeros(8)], ember.ones(8))
    raises(RuntimeError, "group size", dist.all_gather, [t], t)
    raises(RuntimeError, "group size", dist.reduce_scatter, t, [t] * 3)
    raises(RuntimeError, "invalid tensor size", dist.all_gather, [ember.ones(4), ember.ones(5)], t)
    raises(RuntimeError, "invalid tensor size", dist.reduce_scatter, t, [ember.ones(4), ember.ones(3)])
    raises(RuntimeError, "invalid root rank", dist.broadcast, t, WORLD)
    raises(RuntimeError, "invalid root rank", dist.reduce, t, -1)
    raises(ValueError, "Can't specify both", dist.broadcast, t, src=0, group_src=0)
    raises(ValueError, "Must specify src", dist.broadcast, t)
    raises(TypeError, "ReduceOp", dist.all_reduce, t, op="sum")
    raises(ValueError, "twice", dist.init_process_group)


def root_list_errors():
    t = ember.ones(2)
    if rank == 0:
        raises(ValueError, "``gather_list`` must be specified on destination", dist.gather, t, None, 0)
        raises(ValueError, "``scatter_list`` must be specified on source", dist.scatter, t, None, 0)
        raises(RuntimeError, "group size", dist.gather, t, [t], 0)
    else:
        raises(ValueError, "must NOT be specified on non-destination", dist.gather, t, [t, t], 0)
        raises(ValueError, "must NOT be specified on non-source", dist.scatter, t, [t, t], 0)


# ----------------------------------------------------------------- mismatches across ranks
def disagreement(collective, *args, **kwargs):
    raises(RuntimeError, "disagree", collective, *args, **kwargs)


def mismatched_sizes():
    try:
        dist.all_reduce(ember.ones(3 + rank))
    except RuntimeError as exc:
        message = str(exc)
    else:
        raise AssertionError("no error")
    assert "rank 0: all_reduce(elements=3, dtype=float32" in message, message
    assert "rank 1: all_reduce(elements=4, dtype=float32" in message, message


def mismatched_dtypes():
    disagreement(dist.all_reduce, ember.ones(3, dtype=ember.float32 if rank == 0 else ember.float64))


def mismatched_collectives():
    if rank == 0:
        disagreement(dist.all_reduce, ember.ones(3))
    else:
        disagreement(dist.broadcast, ember.ones(3), 0)


def mismatched_roots_and_ops():
    disagreement(dist.broadcast, ember.ones(3), rank)
    disagreement(dist.all_reduce, ember.ones(3), op=dist.ReduceOp.SUM if rank == 0 else dist.ReduceOp.MAX)
    disagreement(dist.all_gather, [ember.ones(2 + rank)] * WORLD, ember.ones(2 + rank))


def works_after_mismatches_and_without_checks():
    t = ember.ones(3)
    dist.all_reduce(t)
    check(t, np.full(3, 2.0, np.float32))
    assert dist.set_collective_checks(False) is True
    try:
        dist.all_reduce(t)
        dist.barrier()
    finally:
        assert dist.set_collective_checks(True) is False
    check(t, np.full(3, 4.0, np.float32))


SPECIAL = {
    "async_overlaps_computation": async_overlaps_computation,
    "empty_and_scalar_tensors": empty_and_scalar_tensors,
    "barrier_blocking_async_and_timeout": barrier_blocking_async_and_timeout,
    "version_counter_moves_and_autograd_sees_it": version_counter_moves_and_autograd_sees_it,
    "non_leaf_keeps_its_graph": non_leaf_keeps_its_graph,
    "outputs_of_broadcast_on_root_keep_their_version": outputs_of_broadcast_on_root_keep_their_version,
    "world_queries": world_queries,
    "subgroup_with_a_non_member": subgroup_with_a_non_member,
    "subgroup_in_given_order": subgroup_in_given_order,
    "new_group_errors_and_timeout": new_group_errors_and_timeout,
    "all_gather_object": all_gather_object_case,
    "gather_object": gather_object_case,
    "broadcast_object_list": broadcast_object_list_case,
    "object_argument_errors": object_argument_errors,
    "argument_errors": argument_errors,
    "root_list_errors": root_list_errors,
    "mismatched_sizes": mismatched_sizes,
    "mismatched_dtypes": mismatched_dtypes,
    "mismatched_collectives": mismatched_collectives,
    "mismatched_roots_and_ops": mismatched_roots_and_ops,
    "works_after_mismatches_and_without_checks": works_after_mismatches_and_without_checks,
}

CASES = {**every_collective(), **SPECIAL}


def main():
    global rank
    # A short timeout turns a bug that desynchronises the ranks into an abort, not a hang.
    dist.init_process_group("mpi", timeout=timedelta(seconds=20))
    rank = dist.get_rank()
    assert dist.get_world_size() == WORLD, "run on 2 ranks"
    outcomes = run_cases(CASES)
    report(outcomes)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
