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
"""


class DeferredChecks:
    """Pending device-side checks of one backend, one slot per call site."""

    def __init__(self, xp):
        self._xp = xp
        self._sites = {}
        self._capturing = None   # site -> (flag, first value, error) of the graph being captured
        self._watched = []       # those slots of every captured graph

    def begin_capture(self):
        """Send the checks added from now on to a graph's own slots."""
        self._capturing = {}

    def end_capture(self):
        """The slots of the checks captured since :meth:`begin_capture`."""
        slots, self._capturing = self._capturing, None
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
            return
        seen, first, _ = pending
        self._sites[site] = (xp.logical_or(seen, failed), xp.where(seen, first, value), error)

    def raise_failed(self):
        """Raise the error of the first site whose check failed since the last call,
        replays of captured graphs included (one transfer for every site), and forget
        them all."""
        replayed = [slot for slots in self._watched for slot in slots.values()]
        if not (self._sites or replayed):
            return
        checks = [*self._sites.values(), *replayed]
        self._sites = {}
        flags = self._xp.stack([seen for seen, _, _ in checks]).tolist()
        for failed, (seen, _, _) in zip(flags[len(flags) - len(replayed):], replayed):
            if failed:
                seen.fill(False)
        for failed, (_, value, error) in zip(flags, checks):
            if failed:
                raise error(value.tolist())
