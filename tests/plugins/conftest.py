"""Every family's tests run on every backend (tests/conftest.py's ``device``):
``tests.oracle.check`` and ``same_outcome``'s inputs go to the test's device."""

import pytest


@pytest.fixture(autouse=True)
def _oracle_on_the_test_device(device):
    """The oracle runs ember on the test's device; a check the device reports late
    (a GPU's) fails the test that left it, not a later one."""
    from tests.oracle import on_device, synchronize_device

    with on_device(device):
        yield
        synchronize_device()
