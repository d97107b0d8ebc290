"""asv benchmarks of a whole training step: the digits demo's MLP with SGD."""

import ember

BACKENDS = ["cpu", "cuda"]


def mlp_training_step(lib, device, batch):
    """One SGD-with-momentum step of a 64-128-10 ReLU MLP on a (batch, 64) float32 batch.

    The step is what ``ember.examples.digits`` runs per batch: ``zero_grad``,
    forward, ``CrossEntropyLoss``, ``backward`` and ``optimizer.step()``. Written
    once for ember and torch (``lib``), like the builders of ``workloads``.
    """
    lib.manual_seed(0)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    if device != "cpu":
        model = model.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = lib.randn(batch, 64, device=device)
    y = lib.randint(0, 10, (batch,), device=device)

    def run():
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()

    return run


class TimeMLPTrainingStep:
    """One training step of the digits MLP (64-128-10) on a batch of ``batch`` rows."""

    params = (BACKENDS, [64])
    param_names = ["backend", "batch"]

    def setup(self, backend, batch):
        if backend == "cuda" and not ember.cuda.is_available():
            raise NotImplementedError("the cuda backend is not available here")
        step = mlp_training_step(ember, backend, batch)
        if backend == "cpu":
            self.run = step
        else:
            def run():
                step()
                ember.cuda.synchronize()

            self.run = run
        self.run()

    def time_step(self, backend, batch):
        """Forward, cross-entropy, backward and SGD update."""
        self.run()
