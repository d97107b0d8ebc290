"""A long GPU training loop: is its memory flat, and does a step wait for the GPU?

``python benchmarks/gpu_steady_state.py [--steps 10000] [--device cuda]`` trains the
784-512-512-10 MLP (cross entropy, ``clip_grad_norm_``, SGD with momentum) on fixed
random batches and prints:

* ``ember.cuda.memory_allocated()`` after step 100 and after the last step, and its
  largest value in between (sampled every 100 steps): flat means equal;
* the device-to-host copies made inside the steps (the backend's ``to_host``, which
  every Tensor conversion goes through), and whether CuPy's synchronisation detector
  (``cupyx.allow_synchronize(False)``) caught any synchronisation in a step;
* the mean step time.

Only the loss of the last step is read back, after the loop. Exits 1 when memory
grew or a step synchronised.
"""

import argparse
import time
import warnings

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.backend import REGISTRY


def build(device):
    ember.manual_seed(0)
    net = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                        nn.Linear(512, 10)).to(device)
    opt = ember.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = ember.randn(128, 784, device=device)
    y = ember.randint(0, 10, (128,), device=device)
    return net, opt, x, y


def step(net, opt, x, y):
    opt.zero_grad()
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    nn.utils.clip_grad_norm_(net.parameters(), 5.0)
    opt.step()
    return loss


def no_sync_detector(device):
    """CuPy's detector of synchronisations (deprecated, still shipped), or None."""
    if device != "cuda":
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cupyx

        return cupyx.allow_synchronize


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    be = REGISTRY.usable(args.device)
    memory = ember.cuda.memory_allocated if args.device == "cuda" else (lambda: 0)
    net, opt, x, y = build(args.device)
    copies = []
    plain = be.to_host
    be.to_host = lambda array: copies.append(array.shape) or plain(array)
    detector = no_sync_detector(args.device)
    synchronised = 0
    samples = []
    at_100 = None
    start = time.perf_counter()
    for n in range(1, args.steps + 1):
        if detector is None:
            loss = step(net, opt, x, y)
        else:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with detector(False):
                        loss = step(net, opt, x, y)
            except Exception as exc:  # cupyx.DeviceSynchronized
                synchronised += 1
                if synchronised == 1:
                    print(f"step {n} synchronised: {type(exc).__name__}: {exc}")
        if n % 100 == 0:
            samples.append(memory())
            if n == 100:
                at_100 = samples[-1]
    if args.device == "cuda":
        ember.cuda.synchronize()
    elapsed = time.perf_counter() - start
    del be.to_host
    final = memory()
    print(f"device: {args.device}; steps: {args.steps}; last loss {loss.item():.4f}")
    print(f"memory_allocated: after step 100 {at_100} B, after the last {final} B, "
          f"largest sampled after step 100 {max(samples[1:], default=final)} B")
    print(f"host copies inside steps: {len(copies)}; steps that synchronised: {synchronised}")
    print(f"mean step: {elapsed / args.steps * 1e3:.3f} ms")
    grew = at_100 is not None and max(samples[1:] + [final]) > at_100
    raise SystemExit(1 if grew or copies or synchronised else 0)


if __name__ == "__main__":
    main()
