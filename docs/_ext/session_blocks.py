"""Sphinx extension: a plain literal block (``::``) that holds an interactive
session (its first line starts with ``>>>``) becomes a doctest block.

Our docstrings write their examples after ``Example::``, which reStructuredText
reads as a literal block; the doctest builder only runs doctest blocks. With
this transform every ``>>>`` example the pages show is also an example the
doctest builder runs, and HTML highlights it as a Python session.
"""

from docutils import nodes
from sphinx.transforms import SphinxTransform


class SessionBlocks(SphinxTransform):
    """Turn literal blocks that start with ``>>>`` into doctest blocks."""

    # before HighlightLanguageTransform (400) gives every literal block a language,
    # so "no language" still means a plain ``::`` block, not ``code-block``
    default_priority = 390

    def apply(self, **kwargs):
        for block in list(self.document.findall(nodes.literal_block)):
            if "language" in block or "testnodetype" in block:
                continue
            if block.astext().lstrip().startswith(">>>"):
                session = nodes.doctest_block(block.rawsource, block.astext())
                session.source, session.line = block.source, block.line
                block.replace_self(session)


def setup(app):
    app.add_transform(SessionBlocks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
