"""Choosing the CPU kernel build: the CPU check comes before any import, and
EMBER_CPU_DISPATCH forces a build or fails clearly."""

import os
import subprocess
import sys

import pytest

from ember.backends.cpu import dispatch, kernels

AVX2_ONLY = {flag: True for flag in dispatch.VARIANTS["avx2"][1]}  # an AMD EPYC without AVX-512


@pytest.fixture
def imports(monkeypatch):
    """The modules dispatch imports (recorded, then imported for real)."""
    seen = []

    def record(name):
        seen.append(name.rsplit(".", 1)[-1])
        return real(name)

    real = dispatch.import_module
    monkeypatch.setattr(dispatch, "import_module", record)
    return seen


@pytest.fixture
def avx2_cpu(monkeypatch):
    monkeypatch.setattr(dispatch, "cpu_features", lambda: dict(AVX2_ONLY))


def test_widest_build_the_cpu_runs_is_chosen(monkeypatch, avx2_cpu, imports):
    monkeypatch.delenv(dispatch.ENV, raising=False)
    variant, module = dispatch.choose()
    assert variant == "avx2" and module.__name__.endswith("_kernels_avx2")
    assert imports == ["_kernels_avx2"]  # the AVX-512 build is never imported


def test_missing_features_are_named(avx2_cpu):
    assert dispatch.missing_features("avx512") == ["AVX512F", "AVX512CD", "AVX512BW", "AVX512DQ", "AVX512VL"]
    assert dispatch.missing_features("avx2") == []
    assert dispatch.missing_features("portable") == []


def test_a_cpu_without_features_gets_the_portable_build(monkeypatch, imports):
    monkeypatch.setattr(dispatch, "cpu_features", dict)
    monkeypatch.delenv(dispatch.ENV, raising=False)
    assert dispatch.choose()[0] == "portable"
    assert imports == ["_kernels"]


@pytest.mark.parametrize("value, variant", [("portable", "portable"), ("avx2", "avx2"), (" AVX2 ", "avx2")])
def test_forced_variant(monkeypatch, avx2_cpu, value, variant):
    monkeypatch.setenv(dispatch.ENV, value)
    assert dispatch.choose()[0] == variant


def test_forcing_a_variant_the_cpu_lacks_raises_before_importing(monkeypatch, avx2_cpu, imports):
    monkeypatch.setenv(dispatch.ENV, "avx512")
    with pytest.raises(RuntimeError, match=r"'avx512' CPU kernels need CPU features this CPU lacks: "
                                           r"AVX512F, AVX512CD, AVX512BW, AVX512DQ, AVX512VL"):
        dispatch.choose()
    assert imports == []


def test_forcing_a_variant_that_was_not_built_raises(monkeypatch, avx2_cpu):
    monkeypatch.setitem(dispatch.VARIANTS, "avx2", ("_kernels_not_built", ()))
    monkeypatch.setenv(dispatch.ENV, "avx2")
    with pytest.raises(RuntimeError, match="'avx2' CPU kernels were not built"):
        dispatch.choose()


def test_unbuilt_variants_fall_back_to_a_narrower_one(monkeypatch, avx2_cpu):
    monkeypatch.setitem(dispatch.VARIANTS, "avx2", ("_kernels_not_built", ()))
    monkeypatch.delenv(dispatch.ENV, raising=False)
    assert dispatch.choose()[0] == "portable"


def test_unknown_value_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv(dispatch.ENV, "sse4")
    with pytest.raises(ValueError, match="EMBER_CPU_DISPATCH='sse4' is not a kernel variant; "
                                         "valid values: avx512, avx2, portable"):
        dispatch.choose()
    with pytest.raises(ValueError, match="unknown CPU kernel variant 'sse4'"):
        dispatch.load("sse4")


def test_the_chosen_variant_is_exposed_and_reported():
    from ember.__main__ import report

    forced = os.environ.get(dispatch.ENV, "").strip().lower()
    widest = next(v for v in dispatch.VARIANTS if not dispatch.missing_features(v))
    assert kernels.VARIANT == (forced or widest)
    assert f"cpu kernels: {kernels.VARIANT} (" in report()


def test_forced_portable_build_runs_ember():
    code = ("import ember; from ember.backends.cpu import kernels; "
            "print(kernels.VARIANT, float(ember.tensor([0.0]).sigmoid()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, dispatch.ENV: "portable"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["portable", "0.5"]
