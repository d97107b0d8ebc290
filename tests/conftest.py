"""Shared fixtures: the backends to run on (cuda tests carry the ``cuda`` mark)."""

import pytest

import ember


def _backends():
    params = [pytest.param("cpu", id="cpu")]
    params.append(pytest.param("cuda", id="cuda", marks=[
        pytest.mark.cuda,
        pytest.mark.skipif(not ember.cuda.is_available(), reason="needs CuPy and a GPU"),
    ]))
    return params


@pytest.fixture(params=_backends())
def device(request):
    """Each available backend's device name in turn."""
    return request.param

