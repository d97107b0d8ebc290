"""Workloads of the attention family, written once for ember and torch like those of
``workloads``: each builder takes the library, a device name and a size and returns a
function that runs the workload once (float32).
"""

#: The encoder layer's sizes: model width, heads, feed-forward width, sequence length.
D_MODEL, HEADS, FEEDFORWARD, SEQ = 256, 4, 1024, 128
#: scaled_dot_product_attention's sizes: batch, heads, head width.
SDPA_BATCH, SDPA_HEADS, SDPA_WIDTH = 4, 8, 64


def encoder_layer_training_step(lib, device, batch):
    """One SGD step of ``TransformerEncoderLayer(256, 4, 1024, batch_first=True)`` in
    training mode (dropout 0.1) on a (batch, 128, 256) batch, mean-squared error
    against a fixed random target."""
    lib.manual_seed(0)
    layer = lib.nn.TransformerEncoderLayer(D_MODEL, HEADS, FEEDFORWARD, batch_first=True).to(device)
    optimizer = lib.optim.SGD(layer.parameters(), lr=0.01)
    criterion = lib.nn.MSELoss()
    x = lib.randn(batch, SEQ, D_MODEL, device=device)
    target = lib.randn(batch, SEQ, D_MODEL, device=device)

    def run():
        optimizer.zero_grad()
        criterion(layer(x), target).backward()
        optimizer.step()

    return run


def sdpa_inputs(lib, device, seq, requires_grad=True):
    """Query, key and value of shape (4, 8, ``seq``, 64)."""
    lib.manual_seed(0)
    shape = (SDPA_BATCH, SDPA_HEADS, seq, SDPA_WIDTH)
    return [lib.randn(*shape, device=device, requires_grad=requires_grad) for _ in range(3)]


def sdpa_causal(lib, device, seq):
    """``scaled_dot_product_attention(q, k, v, is_causal=True)`` forward + backward on
    (4, 8, ``seq``, 64) inputs."""
    q, k, v = sdpa_inputs(lib, device, seq)
    grad = lib.randn(*q.shape, device=device)

    def run():
        for t in (q, k, v):
            t.grad = None
        lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).backward(grad)

    return run
