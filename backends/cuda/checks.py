"""Checks of values that live on the GPU, reported at the next synchronisation.

A loss must refuse a class index outside ``[0, C)``, but reading the answer back to
the host each step would stall the GPU every step. torch's CUDA kernels assert on
the device, and the error surfaces later. ember keeps, per call site, a device
flag (did any call fail since the last look?) and the first failing value, both
updated without a host round trip. The backend looks at them when it synchronises
anyway (``to_host``, ``synchronize``), and raises the site's own error there.

In a CUDA graph (``ember.cuda.graphs``) a check must run at each replay, with no
host code between replays. A check captured into a graph accumulates into a flag and
a first failing value that the graph owns (allocated from its pool, set to "passed"
when the capture ends); every synchronisation looks at the flags of the graphs
captured, raises the first failure and sets the failed flags back.

The commonest check, that integer entries lie in a range (class targets, embedding
and gather indices), costs two launches where the backend's namespace has CuPy's
kernels (:meth:`DeferredChecks.add_range`): one element-wise pass takes the least
position of an entry outside (``atomicMin``) into a per-site, per-device record,
and a one-element launch keeps that entry (the first failure only) and clears the
position for the next call. The record is ``int64[4]``: the pending position (none:
:data:`_NONE`), the failed flag, the first failure's position and its value.
"""

import functools

import numpy as np

#: The pending position of a range record with no entry outside it.
_NONE = 2**63 - 1

_FIND_OUTSIDE = (
    "long long x = (long long)v;"
    " if ((x < low || x >= high) && !(skipping && x == skip)) atomicMin(&record[0], (long long)i);")

_KEEP_FIRST = (
    "long long at = record[0];"
    " if (at != 0x7fffffffffffffffLL) {"
    " if (!record[1]) { record[1] = 1; record[2] = at; record[3] = (long long)v[at]; }"
    " record[0] = 0x7fffffffffffffffLL; }")


@functools.cache
def _range_kernels(xp):
    """The two kernels of a range check, for namespace ``xp``."""
    find = xp.ElementwiseKernel("T v, int64 low, int64 high, int64 skip, bool skipping", "raw int64 record",
                                _FIND_OUTSIDE, "ember_check_range_find")
    keep = xp.ElementwiseKernel("raw T v", "raw int64 record", _KEEP_FIRST, "ember_check_range_keep")
    return find, keep


class DeferredChecks:
    """Pending device-side checks of one backend, one slot per call site."""

    def __init__(self, xp):
        self._xp = xp
        self._sites = {}
        self._capturing = None   # site -> (flag, first value, error) of the graph being captured
        self._capture_records = None  # site -> range record of the graph being captured
        self._watched = []       # those slots of every captured graph
        self._ranges = {}        # (site, device id) -> (range record, its (flag, first value, error))
        # the sites and range records used since the last look, in the order of their
        # first use: the first failure in program order is the one raised
        self._used = {}
        #: Whether :meth:`add_range` can run (the namespace has CuPy's kernels).
        self.checks_ranges = hasattr(xp, "ElementwiseKernel")

    def begin_capture(self):
        """Send the checks added from now on to a graph's own slots."""
        self._capturing, self._capture_records = {}, {}

    def end_capture(self):
        """The slots of the checks captured since :meth:`begin_capture`."""
        slots, self._capturing, self._capture_records = self._capturing, None, None
        return slots

    def watch(self, slots, stream):
        """Look at ``slots`` (a captured graph's) at each synchronisation from now on,
        their flags set to "passed" first (queued on ``stream``, waited for)."""
        if not slots:
            return
        for flag, _, _ in slots.values():
            flag.fill(False)
        stream.synchronize()
        self._watched.append(slots)

    def forget(self, slots):
        """Stop looking at the slots of a graph that is dropped."""
        self._watched = [watched for watched in self._watched if watched is not slots]

    def _capture(self, site, failed, value, error):
        """Queue, in the graph being captured, the accumulation of one check into its slot."""
        xp = self._xp
        slot = self._capturing.get(site)
        if slot is None:
            # empty, not zeros: a fill would be captured too, and undo the accumulation at each replay
            slot = self._capturing[site] = (xp.empty((), dtype=bool), xp.empty_like(value), error)
        flag, first, _ = slot
        xp.copyto(first, xp.where(flag, first, value))
        xp.logical_or(flag, failed, out=flag)

    def add(self, site, failed, witness, error):
        """Record the 0-d boolean array ``failed`` of ``site`` (a string naming the
        check); ``witness()`` gives the array (0-d or 1-D) the message reports, and
        ``error(value)`` the exception to raise. Only the first failure is kept."""
        xp = self._xp
        value = witness()
        if self._capturing is not None:
            self._capture(site, failed, value, error)
            return
        pending = self._sites.get(site)
        if pending is None:
            self._sites[site] = (failed, value, error)
            self._used[("site", site)] = None
            return
        seen, first, _ = pending
        self._sites[site] = (xp.logical_or(seen, failed), xp.where(seen, first, value), error)

    def add_range(self, site, flat, low, high, skip, error, position):
        """Record the check that the integer entries of the 1-D array ``flat`` lie in
        ``[low, high)`` (an entry equal to ``skip``, unless None, passes), in two
        launches; the first entry outside is reported as ``error(value)``, or with
        ``position`` as ``error([index, value])``. Needs :attr:`checks_ranges`."""
        find, keep = _range_kernels(self._xp)
        record = self._range_record(site, flat, error, position)
        find(flat, low, high, 0 if skip is None else skip, skip is not None, record)
        keep(flat, record, size=1)

    def _range_record(self, site, flat, error, position):
        """The record of ``site`` on ``flat``'s device: the graph's own while capturing
        (its flag set to "passed" by :meth:`watch`, its pending position cleared at
        each replay), else one kept from call to call."""
        xp = self._xp
        if self._capturing is not None:
            record = self._capture_records.get(site)
            if record is None:  # empty: a fill of the flag would be captured, and clear it at each replay
                record = self._capture_records[site] = xp.empty(4, dtype=xp.int64)
                self._capturing[site] = _range_slot(record, error, position)
            record[0] = _NONE
            return record
        key = (site, flat.device.id)
        if key not in self._ranges:
            with flat.device:
                record = xp.asarray(np.array([_NONE, 0, 0, 0], dtype=np.int64))
            self._ranges[key] = (record, _range_slot(record, error, position))
        self._used[("range", key)] = None
        return self._ranges[key][0]

    def raise_failed(self):
        """Raise the error of the first site whose check failed since the last call,
        replays of captured graphs included (one transfer for every site), and forget
        them all."""
        used = [self._sites[key] if kind == "site" else self._ranges[key][1] for kind, key in self._used]
        watched = [slot for slots in self._watched for slot in slots.values()]
        checks = used + watched
        if not checks:
            return
        # the range records and the graphs' slots persist: their flags go back to "passed"
        persistent = [kind == "range" for kind, _ in self._used] + [True] * len(watched)
        self._sites, self._used = {}, {}
        flags = self._xp.stack([seen for seen, _, _ in checks]).tolist()
        for failed, keep, (seen, _, _) in zip(flags, persistent, checks):
            if failed and keep:
                seen.fill(False)
        for failed, (_, value, error) in zip(flags, checks):
            if failed:
                raise error(value.tolist())


def _range_slot(record, error, position):
    """A site's ``(flag, first value, error)`` viewing a range ``record``."""
    return record[1], (record[2:4] if position else record[3]), error
