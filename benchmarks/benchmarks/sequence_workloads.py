"""Workloads of the recurrent and sparse families, written once for ember and torch
like those of ``workloads``: each builder takes the library, a device name and a
batch size and returns a function that runs the workload once (float32).
"""

#: The recurrent benchmark's sizes: sequence length, input and hidden width, layers.
SEQ, INPUT, HIDDEN, LAYERS = 35, 200, 200, 2


def _recurrent(lib, device, batch, cls_name):
    lib.manual_seed(0)
    rnn = getattr(lib.nn, cls_name)(INPUT, HIDDEN, num_layers=LAYERS).to(device)
    x = lib.randn(SEQ, batch, INPUT, device=device, requires_grad=True)
    grad = lib.randn(SEQ, batch, HIDDEN, device=device)
    params = list(rnn.parameters())

    def run():
        x.grad = None
        for p in params:
            p.grad = None
        rnn(x)[0].backward(grad)

    return run


def lstm(lib, device, batch):
    """2-layer LSTM, input 200, hidden 200, 35 steps: forward + backward."""
    return _recurrent(lib, device, batch, "LSTM")


def gru(lib, device, batch):
    """2-layer GRU, input 200, hidden 200, 35 steps: forward + backward."""
    return _recurrent(lib, device, batch, "GRU")


def embedding_bag_mean(lib, device, batch, bag=20, rows=10_000, width=64):
    """EmbeddingBag(mode='mean') over a (10000, 64) table: ``batch`` bags of 20
    indices (1-D input with offsets), forward + backward into the table's gradient."""
    lib.manual_seed(0)
    bags = lib.nn.EmbeddingBag(rows, width, mode="mean").to(device)
    indices = lib.randint(0, rows, (batch * bag,), device=device)
    offsets = lib.arange(0, batch * bag, bag, device=device)
    grad = lib.randn(batch, width, device=device)

    def run():
        bags.weight.grad = None
        bags(indices, offsets).backward(grad)

    return run
