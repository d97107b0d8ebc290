"""Fit ``sin(x)`` with a two-layer tanh network written from core tensor ops only.

Run ``python -m ember.examples.fit_sine``; it prints the loss every few hundred
steps and fails (exit 1) if the final mean squared error is not below 0.01.
"""

import argparse
import math
import sys
import time

import ember


def train(steps=3000, hidden=32, lr=0.05, seed=0, log_every=250):
    """Train the network with plain gradient descent; returns the final loss."""
    ember.manual_seed(seed)
    x = ember.linspace(-math.pi, math.pi, 256).unsqueeze(1)
    y = x.sin()
    w1 = (ember.randn(1, hidden) * 1.0).requires_grad_()
    b1 = ember.zeros(hidden, requires_grad=True)
    w2 = (ember.randn(hidden, 1) / math.sqrt(hidden)).requires_grad_()
    b2 = ember.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]
    loss = None
    for step in range(1, steps + 1):
        pred = (x @ w1 + b1).tanh() @ w2 + b2
        loss = ((pred - y) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with ember.no_grad():
            for p in params:
                p -= lr * p.grad
        if log_every and step % log_every == 0:
            print(f"step {step:5d}  loss {loss.item():.6f}")
    return loss.item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    final = train(args.steps, lr=args.lr)
    print(f"final loss {final:.6f} in {time.perf_counter() - start:.1f} s")
    return 0 if final < 0.01 else 1


if __name__ == "__main__":
    sys.exit(main())
