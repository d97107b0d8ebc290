"""``ember.layout``: how a tensor stores its elements."""


class layout:
    """A memory layout: ``ember.strided`` (a dense array, the usual case) or
    ``ember.sparse_coo`` (only the nonzero entries, as coordinates and values)."""

    __module__ = "ember"
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "ember." + self.name

    def __reduce__(self):
        return self.name  # pickled as the module-level constant ``ember.<name>``


strided = layout("strided")
sparse_coo = layout("sparse_coo")
