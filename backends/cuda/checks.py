"""Checks of values that live on the GPU, reported at the next synchronisation.

A loss must refuse a class index outside ``[0, C)``, but reading the answer back to
the host each step would stall the GPU every step. torch's CUDA kernels assert on
the device, and the error surfaces later. ember keeps, per call site, a device
flag (did any call fail since the last look?) and the first failing value, both
updated without a host round trip. The backend looks at them when it synchronises
anyway (``to_host``, ``synchronize``), and raises the site's own error there.
"""


class DeferredChecks:
    """Pending device-side checks of one backend, one slot per call site."""

    def __init__(self, xp):
        self._xp = xp
        self._sites = {}

    def add(self, site, failed, witness, error):
        """Record the 0-d boolean array ``failed`` of ``site`` (a string naming the
        check); ``witness()`` gives the 0-d array the message reports, and
        ``error(value)`` the exception to raise. Only the first failure is kept."""
        xp = self._xp
        pending = self._sites.get(site)
        value = witness()
        if pending is None:
            self._sites[site] = (failed, value, error)
            return
        seen, first, _ = pending
        self._sites[site] = (xp.logical_or(seen, failed), xp.where(seen, first, value), error)

    def raise_failed(self):
        """Raise the error of the first site whose check failed since the last call
        (one transfer for every site), and forget them all."""
        if not self._sites:
            return
        sites, self._sites = self._sites, {}
        flags = self._xp.stack([seen for seen, _, _ in sites.values()]).tolist()
        for failed, (_, value, error) in zip(flags, sites.values()):
            if failed:
                raise error(value.item())
