"""``python -m ember``: what this installation found — backends, plugins, modules, kernels;
``python -m ember --kernels``: every kernel, with the plugin that owns it."""

import os
import sys

import numpy as np
import pluggy

import ember
from ember._plugins import MANAGER
from ember.backend import REGISTRY
from ember.kernels import GENERIC


def report():
    """The text that ``python -m ember`` prints."""
    lines = [f"ember {ember.__version__} (python {sys.version.split()[0]}, numpy {np.__version__}, "
             f"pluggy {pluggy.__version__})", "", "backends:"]
    for name, be in sorted(REGISTRY.backends.items()):
        if be.is_available():
            state = f"available, {be.device_count()} device(s), {be.version}"
        else:
            state = f"unavailable: {be.unavailable_reason()}"
        lines.append(f"  {name:<8} [{MANAGER.owner.get(('backend', name), '?')}] {state}")
    lines += ["", _cpu_kernels_line(), "", "plugins:"]
    for info in MANAGER.plugins.values():
        state = "enabled" if info.enabled else (f"failed: {info.error}" if info.error else "disabled")
        origin = "built-in" if info.builtin else "third-party"
        needs = MANAGER.requirements(info.name)
        needs = f" (requires {', '.join(needs)})" if needs else ""
        lines.append(f"  {info.name:<14} {info.distribution} {info.version} ({origin}) {state}{needs}")
    lines += ["", f"modules ({len(MANAGER.modules)}):"]
    lines += [f"  ember.nn.{n:<28} [{MANAGER.owner[('module', n)]}]" for n in sorted(MANAGER.modules)]
    lines += ["", f"functions ({len(MANAGER.functions)}):"]
    lines += [f"  ember.nn.functional.{n:<20} [{MANAGER.owner[('function', n)]}]"
              for n in sorted(MANAGER.functions)]
    utils = MANAGER.tables["util"]
    lines += ["", f"utils ({len(utils)}):"]
    lines += [f"  ember.nn.utils.{n:<25} [{MANAGER.owner[('util', n)]}]" for n in sorted(utils)]
    generic = sum(be == GENERIC for _, be in REGISTRY.kernels)
    lines += ["", f"kernels: {generic} generic, {len(REGISTRY.kernels) - generic} backend-specific "
                  f"(python -m ember --kernels lists them)"]
    return "\n".join(lines)


def kernels_report():
    """The text of ``python -m ember --kernels``: every op, the backends that have a
    kernel for it, and the plugin that owns each (``*`` marks an explicit override,
    ``?`` a kernel that takes only some calls and leaves the rest to the generic one)."""
    ops = {}
    for (op, backend), kernel in REGISTRY.kernels.items():
        mark = ("*" if kernel.override else "") + ("?" if kernel.accepts else "")
        ops.setdefault(op, []).append(f"{backend}{mark} [{REGISTRY.kernel_owner[(op, backend)]}]")
    width = max(map(len, ops), default=0)
    lines = [f"kernels ({len(REGISTRY.kernels)}): op -> backend [owning plugin]; "
             f"'{GENERIC}' serves every backend without its own; * override, ? some calls only"]
    lines += [f"  {op:<{width}}  {', '.join(sorted(entries))}" for op, entries in sorted(ops.items())]
    return "\n".join(lines)


def _cpu_kernels_line():
    """Which build of the CPU kernels runs, why, and which ones this CPU could run."""
    try:
        from ember.backends.cpu import dispatch
        from ember.backends.cpu.kernels import VARIANT
    except (ImportError, RuntimeError, ValueError) as error:
        return f"cpu kernels: unavailable ({type(error).__name__}: {error})"
    how = f"forced by {dispatch.ENV}" if os.environ.get(dispatch.ENV, "").strip() else "widest this CPU runs"
    runs = [variant for variant in dispatch.VARIANTS if not dispatch.missing_features(variant)]
    return f"cpu kernels: {VARIANT} ({how}; this CPU runs: {', '.join(runs)})"


if __name__ == "__main__":
    print(kernels_report() if "--kernels" in sys.argv[1:] else report())
