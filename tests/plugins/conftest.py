"""Every family's tests run on every backend (tests/conftest.py's ``device``):
``tests.oracle.check`` and ``same_outcome``'s inputs go to the test's device.
A test marked ``fails_on_checked`` (tests/plugins/library_bugs.py) is a strict
expected failure on the 'checked' backend."""

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "fails_on_checked(bug): a known library bug makes this test fail on the "
                                       "'checked' backend (a strict expected failure there)")


def pytest_collection_modifyitems(items):
    """Turn ``fails_on_checked`` into a strict xfail on the tests' 'checked' variants."""
    for item in items:
        mark = item.get_closest_marker("fails_on_checked")
        callspec = getattr(item, "callspec", None)
        if mark is not None and callspec is not None and callspec.params.get("device") == "checked":
            item.add_marker(pytest.mark.xfail(strict=True, reason=mark.args[0]))


@pytest.fixture(autouse=True)
def _oracle_on_the_test_device(device):
    from tests.oracle import on_device

    with on_device(device):
        yield
