"""Process groups and the registry of the ones alive: the default group (``group.WORLD``),
the groups ``new_group`` made, and the lookups torch offers on them (``get_rank``,
``get_world_size``, ``get_backend``, rank translation)."""

import warnings

_NOT_INITIALIZED = ("Default process group has not been initialized, "
                    "please make sure to call init_process_group.")


class ProcessGroup:
    """A set of ranks whose collectives run on one MPI communicator (and, for CUDA
    tensors under the ``nccl`` backend, on one NCCL communicator made on first use).

    ``rank()`` and ``size()`` are this process's rank in the group and the group's
    size; ``ranks`` are the members' global ranks in group-rank order.
    """

    def __init__(self, comm, ranks, backend, timeout, name):
        self.comm = comm
        self.ranks = tuple(ranks)
        self.backend = backend
        self.timeout = timeout
        self.timeout_s = timeout.total_seconds()
        self.group_name = name
        self.nccl = None  # ember.distributed._nccl sets it on the first CUDA collective
        self._rank = comm.Get_rank()
        self._size = comm.Get_size()
        self._group_rank_of = {global_rank: i for i, global_rank in enumerate(self.ranks)}

    def rank(self):
        """This process's rank in the group."""
        return self._rank

    def size(self):
        """How many processes the group has."""
        return self._size

    def group_rank(self, global_rank):
        """The group rank of ``global_rank``; ValueError when it is not a member."""
        try:
            return self._group_rank_of[global_rank]
        except (KeyError, TypeError):
            raise ValueError(f"Global rank {global_rank} is not part of group {self}") from None

    def __repr__(self):
        return f"<ember.distributed.ProcessGroup {self.group_name!r} ranks={list(self.ranks)} {self.backend}>"


class _World:
    """What init_process_group set up: the default group, every live group, the
    process's global rank."""

    def __init__(self):
        self.default = None
        self.groups = []
        self.created = 0  # how many groups new_group made: names the next one


WORLD_STATE = _World()


class _WorldMeta(type):
    """Gives ``group`` and ``GroupMember`` the class attribute ``WORLD``: the default
    group, or None before init_process_group."""

    @property
    def WORLD(cls):
        return WORLD_STATE.default


class group(metaclass=_WorldMeta):
    """``group.WORLD`` is the default process group (None before initialisation)."""


class GroupMember(metaclass=_WorldMeta):
    """``GroupMember.WORLD`` is the default group; ``GroupMember.NON_GROUP_MEMBER`` is
    what ``new_group`` returns on the ranks it leaves out."""

    NON_GROUP_MEMBER = -100


def default_group():
    """The default group; ValueError (torch's message) before init_process_group."""
    pg = WORLD_STATE.default
    if pg is None:
        raise ValueError(_NOT_INITIALIZED)
    return pg


def is_non_member(group):
    """True for the object non-members of a group hold (``GroupMember.NON_GROUP_MEMBER``)."""
    return isinstance(group, int) and not isinstance(group, bool) and group == GroupMember.NON_GROUP_MEMBER


def resolve(group):
    """The live ProcessGroup that ``group`` (None: the default) names."""
    if group is None:
        return default_group()
    if any(group is pg for pg in WORLD_STATE.groups):
        return group
    default_group()  # before initialisation, torch's "not initialized" error comes first
    raise ValueError("Invalid process group specified")


def member_group(group, op_name):
    """The group a collective runs on, or None on a rank outside it (after torch's
    warning: such a rank's collective does nothing)."""
    if is_non_member(group):
        default = WORLD_STATE.default
        warnings.warn(f"Running {op_name} on global rank {-1 if default is None else default.rank()} "
                      "which does not belong to the given group.", stacklevel=3)
        return None
    return resolve(group)


def root_rank(pg, global_rank, group_root, what):
    """The group rank of a collective's root, given as a global rank (``src``/``dst``)
    or as a group rank (``group_src``/``group_dst``), as torch takes them."""
    if group_root is not None:
        if global_rank is not None:
            raise ValueError(f"Can't specify both group_{what} and {what}")
        if not 0 <= group_root < pg.size():
            raise ValueError(f"Group rank {group_root} is not part of group {pg}")
        return group_root
    if global_rank is None:
        raise ValueError(f"Must specify {what} or group_{what}")
    if pg is WORLD_STATE.default:
        if not isinstance(global_rank, int) or not 0 <= global_rank < pg.size():
            raise RuntimeError(f"invalid root rank: {global_rank} (the group has ranks 0 to {pg.size() - 1})")
        return global_rank
    return pg.group_rank(global_rank)


def get_rank(group=None):
    """This process's rank in ``group`` (default: the default group); -1 when it is
    not a member."""
    if is_non_member(group):
        return -1
    return resolve(group).rank()


def get_world_size(group=None):
    """How many processes ``group`` (default: the default group) has; -1 on a rank
    outside it."""
    if is_non_member(group):
        return -1
    return resolve(group).size()


def get_backend(group=None):
    """The backend name (``"mpi"`` or ``"nccl"``) of ``group`` (default: the default group)."""
    if is_non_member(group):
        raise ValueError("Invalid process group specified")
    return resolve(group).backend


def get_process_group_ranks(group):
    """The global ranks of ``group``'s members (None: the default group), in group-rank order."""
    return list(resolve(group).ranks)


def get_group_rank(group, global_rank):
    """The rank in ``group`` of the process whose global rank is ``global_rank``."""
    return resolve(group).group_rank(global_rank)


def get_global_rank(group, group_rank):
    """The global rank of the process whose rank in ``group`` is ``group_rank``."""
    ranks = resolve(group).ranks
    if not isinstance(group_rank, int) or not 0 <= group_rank < len(ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {group}")
    return ranks[group_rank]
