"""Workloads of the spatial families (conv, pooling, padding, vision), written once
for ember and torch like those of ``workloads``: each builder takes the library,
a device name and a batch size and returns a function that runs the workload once.
"""

#: Shape (without the batch) of the activations the layer workloads run on.
CHANNELS, SIDE = 64, 32


def layer_forward_backward(lib, device, batch, make_layer, shape=None):
    """Forward and backward of ``make_layer(lib.nn)`` on a float32 batch.

    The input (default ``(batch, 64, 32, 32)``) requires grad; each call clears
    the input's and the parameters' ``.grad`` first, so every call does the same work.
    """
    lib.manual_seed(0)
    layer = make_layer(lib.nn).to(device)
    x = lib.randn(*(shape or (batch, CHANNELS, SIDE, SIDE)), device=device, requires_grad=True)
    grad = lib.randn_like(layer(x))
    params = list(layer.parameters())

    def run():
        x.grad = None
        for p in params:
            p.grad = None
        layer(x).backward(grad)

    return run


def conv2d_3x3(lib, device, batch):
    """Conv2d 64->64, 3x3, padding 1, on (batch, 64, 32, 32): forward + backward."""
    return layer_forward_backward(lib, device, batch, lambda nn: nn.Conv2d(64, 64, 3, padding=1))


def conv2d_3x3_flops(batch):
    """Multiply-adds x 2 of one forward of :func:`conv2d_3x3`."""
    return 2 * batch * 64 * 64 * 9 * SIDE * SIDE


def max_pool2d(lib, device, batch):
    """MaxPool2d(2) on (batch, 64, 32, 32): forward + backward."""
    return layer_forward_backward(lib, device, batch, lambda nn: nn.MaxPool2d(2))


def avg_pool2d(lib, device, batch):
    """AvgPool2d(2) on (batch, 64, 32, 32): forward + backward."""
    return layer_forward_backward(lib, device, batch, lambda nn: nn.AvgPool2d(2))


def reflection_pad2d(lib, device, batch):
    """ReflectionPad2d(1) on (batch, 64, 32, 32): forward + backward."""
    return layer_forward_backward(lib, device, batch, lambda nn: nn.ReflectionPad2d(1))


def upsample_bilinear(lib, device, batch):
    """Upsample x2, bilinear (align_corners=False), on (batch, 64, 32, 32): forward + backward."""
    return layer_forward_backward(
        lib, device, batch, lambda nn: nn.Upsample(scale_factor=2, mode="bilinear"))


def upsample_nearest(lib, device, batch):
    """Upsample x2, nearest, on (batch, 64, 32, 32): forward + backward."""
    return layer_forward_backward(lib, device, batch, lambda nn: nn.Upsample(scale_factor=2))


def lenet5(nn):
    """LeNet-5 for 1 x 28 x 28 images: two 5x5 convolutions with ReLU and 2x2 max
    pooling, then 400-120-84-10 linear layers."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def lenet5_training_step(lib, device, batch):
    """One SGD-with-momentum step of LeNet-5 on a (batch, 1, 28, 28) float32 batch."""
    lib.manual_seed(0)
    model = lenet5(lib.nn).to(device)
    criterion = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = lib.randn(batch, 1, 28, 28, device=device)
    y = lib.randint(0, 10, (batch,), device=device)

    def run():
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()

    return run


def batch_norm2d(lib, device, batch):
    """BatchNorm2d(64) in training mode on (batch, 64, 32, 32): forward + backward."""
    return layer_forward_backward(lib, device, batch, lambda nn: nn.BatchNorm2d(64))
