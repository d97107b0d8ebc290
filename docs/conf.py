"""Sphinx configuration for ember's documentation.

Build: ``sphinx-build -b html docs docs/_build/html``; run every ``>>>`` example
of the pages and of the docstrings they pull in: ``sphinx-build -b doctest docs
docs/_build/doctest``.

The reference documents ember itself: the build loads only ember's own plugins
(``EMBER_DISABLE_PLUGIN_AUTOLOAD``), whatever else is installed or switched off
in the environment, and the generated pages list built-in plugins only.
"""

import os
import sys
from pathlib import Path

os.environ["EMBER_DISABLE_PLUGIN_AUTOLOAD"] = "1"
os.environ.pop("EMBER_DISABLE_PLUGINS", None)
sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "ember"
author = "ember developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.doctest",
              "session_blocks", "api_pages"]
exclude_patterns = ["_build"]
html_theme = "alabaster"

autodoc_member_order = "groupwise"
napoleon_use_rtype = False

# the names the docstrings' examples use without importing them, as in torch's
doctest_global_setup = """
import ember
from ember import nn
import ember.nn.functional as F
"""
