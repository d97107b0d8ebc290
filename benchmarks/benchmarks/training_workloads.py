"""Whole training steps and optimizer updates, written once for ember and torch like
the builders of ``workloads``: each takes the library, a device name and a size (the
batch, or the parameter count for the optimizers) and returns a function that runs
one step (float32).
"""


def classifier_step(lib, device, model, optimizer, x, classes=10):
    """A function running one training step of ``model`` on the batch ``x``.

    The step is what a classification script runs per batch: ``zero_grad``, forward,
    ``CrossEntropyLoss`` against fixed random labels, ``backward`` and
    ``optimizer.step()``.
    """
    criterion = lib.nn.CrossEntropyLoss()
    y = lib.randint(0, classes, (x.shape[0],), device=device)

    def run():
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()

    return run


def _sgd_momentum(lib, model):
    return lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def mlp_training_step(lib, device, batch):
    """One SGD-with-momentum step of a 64-128-10 ReLU MLP on a (batch, 64) batch,
    what ``ember.examples.digits`` runs per batch."""
    lib.manual_seed(0)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
    optimizer = _sgd_momentum(lib, model)
    return classifier_step(lib, device, model, optimizer, lib.randn(batch, 64, device=device))


def mlp_784_training_step(lib, device, batch):
    """One SGD-with-momentum step of a 784-512-512-10 ReLU MLP on a (batch, 784) batch."""
    lib.manual_seed(0)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10)).to(device)
    optimizer = _sgd_momentum(lib, model)
    return classifier_step(lib, device, model, optimizer, lib.randn(batch, 784, device=device))


def basic_block(nn, channels):
    """ResNet's basic block on ``channels`` channels: two 3x3 convolutions without
    bias, each followed by BatchNorm2d, ReLU after the first and after the identity
    shortcut is added (ReLUs in place, as torchvision writes them)."""

    class BasicBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + x)

    return BasicBlock()


def resnet_block_training_step(lib, device, batch, channels=64, side=32):
    """One SGD-with-momentum step of a ResNet basic block (64 channels) on a
    (batch, 64, 32, 32) batch, mean-squared error against a fixed random target."""
    lib.manual_seed(0)
    block = basic_block(lib.nn, channels).to(device)
    optimizer = _sgd_momentum(lib, block)
    criterion = lib.nn.MSELoss()
    x = lib.randn(batch, channels, side, side, device=device)
    target = lib.randn(batch, channels, side, side, device=device)

    def run():
        optimizer.zero_grad()
        criterion(block(x), target).backward()
        optimizer.step()

    return run


def _optimizer_step(lib, device, parameters, make_optimizer, tensors=4):
    """``step`` of ``make_optimizer(params)`` over ``parameters`` values split into
    ``tensors`` 1-d parameters whose gradients are set once."""
    lib.manual_seed(0)
    params = [lib.randn(parameters // tensors, device=device, requires_grad=True)
              for _ in range(tensors)]
    for param in params:
        param.grad = lib.randn_like(param)
    return make_optimizer(params).step


def sgd_momentum_step(lib, device, parameters):
    """``SGD(lr=0.01, momentum=0.9).step()`` over ``parameters`` values in 4 tensors."""
    return _optimizer_step(lib, device, parameters,
                           lambda params: lib.optim.SGD(params, lr=0.01, momentum=0.9))


def adam_step(lib, device, parameters):
    """``Adam(lr=1e-3).step()`` over ``parameters`` values in 4 tensors."""
    return _optimizer_step(lib, device, parameters,
                           lambda params: lib.optim.Adam(params, lr=1e-3))
