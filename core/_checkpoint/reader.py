"""Reading torch's zip checkpoint format (``torch.save`` since 1.6, and ember's) without torch."""

import io
import struct
import sys
import zipfile

import numpy as np

from .placement import place
from .unpickler import LoadedStorage, UnpicklingError, read_pickle


def read_zip(fp, map_location=None, trusted=False):
    """The object saved in the zip checkpoint ``fp`` (a seekable binary file)."""
    try:
        zf = zipfile.ZipFile(fp)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error) as e:
        raise RuntimeError(f"ember.load: the checkpoint is not a readable zip archive ({e})") from None
    with zf:
        return _Archive(zf).load(map_location, trusted)


class _Archive:
    """One checkpoint archive: ``<prefix>/data.pkl`` and its ``<prefix>/data/<key>`` records."""

    def __init__(self, zf):
        self.zf = zf
        pickles = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise RuntimeError("ember.load: the zip archive is not a torch.save/ember.save checkpoint "
                               "(it has no single '<name>/data.pkl' record)")
        self.prefix = pickles[0][: -len("data.pkl")]
        order = self._text("byteorder", default=sys.byteorder)
        if order not in ("little", "big"):
            raise RuntimeError(f"ember.load: unknown byte order record {order!r}")
        self.swap = order != sys.byteorder
        self.storages = {}

    def _read(self, name, out=None):
        try:
            with self.zf.open(self.prefix + name) as src:
                if out is None:
                    return src.read()
                view = memoryview(out).cast("B")
                filled = 0
                while filled < len(view):
                    n = src.readinto(view[filled:])
                    if not n:
                        break
                    filled += n
                return filled
        except KeyError:
            raise RuntimeError(f"ember.load: the checkpoint has no record '{self.prefix}{name}'") from None
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error, NotImplementedError) as e:
            raise RuntimeError(f"ember.load: the record '{self.prefix}{name}' is unreadable ({e})") from None

    def _info(self, name):
        try:
            return self.zf.getinfo(self.prefix + name)
        except KeyError:
            return None

    def _text(self, name, default):
        if self._info(name) is None:
            return default
        return self._read(name).decode("ascii", "replace").strip()

    def load(self, map_location, trusted):
        def storage(dtype, key, location, numel):
            if key not in self.storages:
                host = self._storage_array(dtype, key, numel)
                array, be = place(host, location, map_location)
                self.storages[key] = LoadedStorage(array, be, dtype)
            return self.storages[key]

        return read_pickle(io.BytesIO(self._read("data.pkl")), storage, trusted)

    def _storage_array(self, dtype, key, numel):
        """The host array of record ``data/<key>``: ``numel`` elements of ``dtype`` (bytes if None)."""
        name = f"data/{key}"
        np_dtype = np.dtype(np.uint8) if dtype is None else dtype.np
        info = self._info(name)
        nbytes = numel * np_dtype.itemsize
        if info is None:
            raise RuntimeError(f"ember.load: the checkpoint has no record '{self.prefix}{name}' for a storage")
        if info.file_size != nbytes:
            raise UnpicklingError(f"the storage record '{self.prefix}{name}' holds {info.file_size} bytes, "
                                  f"the pickle expects {numel} x {np_dtype.itemsize}: the file is corrupt")
        if self.swap:
            if dtype is None:
                raise RuntimeError("ember.load: an untyped storage in a file of the other byte order")
            host = np.empty(numel, np_dtype.newbyteorder())
        else:
            host = np.empty(numel, np_dtype)
        if self._read(name, host) != nbytes:
            raise RuntimeError(f"ember.load: the record '{self.prefix}{name}' is truncated")
        return host.astype(np_dtype) if self.swap else host
