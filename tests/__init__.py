"""ember's tests; ``python -m pytest -q`` from the repository root runs them all.

The tree mirrors the package: a file that tests one module or subpackage sits at
the mirrored path (``core/_ops/reduce.py`` -> ``tests/core/_ops/test_reduce.py``,
``backends/cpu/`` -> ``tests/backends/cpu/``, ``plugins/<family>/`` ->
``tests/plugins/<family>/``); tests of the core as a whole stay in ``tests/core/``.
``tests/conformance/`` holds the suites that cut across everything: torch's own
OpInfo samples, the spec's examples, the hostile-input sweeps and whole programs.

Every comparison with torch goes through ``tests/oracle.py``; the ``device``
fixture (``tests/conftest.py``) runs tests on every available backend.
"""
