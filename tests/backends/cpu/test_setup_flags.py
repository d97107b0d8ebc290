"""setup.py passes x86 flags only when compiling for x86-64 (native, cross or macOS
multi-arch builds), so the package also builds on aarch64."""

import pathlib
import runpy
import shutil
import sys
import types

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def _extensions(tmp_path, monkeypatch, machine="x86_64", **env):
    """{extension name: compile flags} that setup.py would build under ``env``."""
    for name in ("ARCHFLAGS", "_PYTHON_HOST_PLATFORM", "EMBER_NATIVE", "EMBER_BUILD_ONLY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import platform

    import setuptools

    captured = {}
    monkeypatch.setattr(platform, "machine", lambda: machine)
    # Cython is a build requirement only: a stand-in that hands the extensions back
    cython_build = types.ModuleType("Cython.Build")
    cython_build.cythonize = lambda extensions, **_: extensions
    monkeypatch.setitem(sys.modules, "Cython", types.ModuleType("Cython"))
    monkeypatch.setitem(sys.modules, "Cython.Build", cython_build)
    monkeypatch.setattr(setuptools, "setup", lambda **kw: captured.update(kw))
    # a copy, so that the build-mode stamp it writes lands in tmp_path/build
    shutil.copy(ROOT / "setup.py", tmp_path / "setup.py")
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(tmp_path / "setup.py"))
    return {ext.name.rsplit(".", 1)[-1]: ext.extra_compile_args for ext in captured["ext_modules"]}


def _x86_flags(flags):
    return [f for f in flags if f.startswith(("-march", "-mprefer-vector-width", "-mcpu"))]


#: The CPU backend's compiled modules, each built in the same variants.
MODULES = ["_kernels", "_optim", "_softmax"]


@pytest.mark.parametrize("module", MODULES)
def test_x86_64_builds_the_wide_variants(tmp_path, monkeypatch, module):
    exts = _extensions(tmp_path, monkeypatch, _PYTHON_HOST_PLATFORM="linux-x86_64")
    assert _x86_flags(exts[module]) == []
    assert _x86_flags(exts[f"{module}_avx2"]) == ["-march=x86-64-v3"]
    assert _x86_flags(exts[f"{module}_avx512"]) == ["-march=x86-64-v4", "-mprefer-vector-width=512"]


@pytest.mark.parametrize("env", [
    dict(_PYTHON_HOST_PLATFORM="linux-aarch64"),                 # cross build from an x86-64 host
    dict(_PYTHON_HOST_PLATFORM="macosx-11.0-arm64"),
    dict(_PYTHON_HOST_PLATFORM="macosx-10.9-universal2"),        # one binary for both
    dict(ARCHFLAGS="-arch arm64 -arch x86_64"),
    dict(_PYTHON_HOST_PLATFORM="linux-aarch64", EMBER_NATIVE="1"),
], ids=["cross-aarch64", "macos-arm64", "universal2", "archflags", "native-cross"])
def test_other_targets_get_no_x86_flags(tmp_path, monkeypatch, env):
    exts = _extensions(tmp_path, monkeypatch, **env)
    assert list(exts) == MODULES
    assert all(_x86_flags(exts[name]) == [] for name in MODULES)


def test_native_build_on_aarch64_tunes_for_aarch64(tmp_path, monkeypatch):
    exts = _extensions(tmp_path, monkeypatch, machine="aarch64", _PYTHON_HOST_PLATFORM="linux-aarch64",
                       EMBER_NATIVE="1")
    assert list(exts) == MODULES
    assert all(_x86_flags(exts[name]) == ["-mcpu=native"] for name in MODULES)


def test_native_build_on_x86_64(tmp_path, monkeypatch):
    exts = _extensions(tmp_path, monkeypatch, _PYTHON_HOST_PLATFORM="linux-x86_64", EMBER_NATIVE="1")
    assert list(exts) == MODULES  # one build of each, tuned for this machine
    assert all(_x86_flags(exts[name]) == ["-march=native"] for name in MODULES)
