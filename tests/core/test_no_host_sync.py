"""A training step reads nothing back from the device: the autograd engine, the
losses, ``clip_grad_norm_`` and the optimizers keep their numbers where the tensors
live. On the CPU this counts the backend's device-to-host copies (``to_host``,
which every Tensor conversion goes through); on a GPU the step also runs under
CuPy's synchronisation detector."""

import contextlib

import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.backend import REGISTRY

OPTIMIZERS = {
    "SGD momentum": lambda p: ember.optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4),
    "Adam": lambda p: ember.optim.Adam(p, lr=1e-3, amsgrad=True),
    "AdamW": lambda p: ember.optim.AdamW(p, lr=1e-3),
    "RMSprop": lambda p: ember.optim.RMSprop(p, lr=1e-3, momentum=0.5, centered=True),
    "Adagrad": lambda p: ember.optim.Adagrad(p, lr=1e-2),
}

LOSSES = {
    "cross_entropy": lambda out, y: F.cross_entropy(out, y, ignore_index=2, label_smoothing=0.1),
    "nll_loss": lambda out, y: F.nll_loss(out.log_softmax(1), y),
    "mse_loss": lambda out, y: F.mse_loss(out, F.one_hot(y, 4).to(out.dtype)),
    "binary_cross_entropy": lambda out, y: F.binary_cross_entropy(out.sigmoid(), F.one_hot(y, 4).to(out.dtype)),
}


@contextlib.contextmanager
def counted_host_copies(device, ignored=(), refuse_sync=True):
    """Count the backend's ``to_host`` calls, but of the arrays whose ids are
    ``ignored`` (and on a GPU, unless not ``refuse_sync``, refuse synchronisation)."""
    be = REGISTRY.get(device)
    calls = []
    plain = be.to_host

    def counting(array):
        if id(array) not in ignored:
            calls.append(array.shape)
        return plain(array)

    be.to_host = counting
    try:
        if device == "cuda" and refuse_sync:
            import cupyx

            with cupyx.allow_synchronize(False):
                yield calls
        else:
            yield calls
    finally:
        del be.to_host


def model(device):
    ember.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 32), nn.LayerNorm(32), nn.Tanh(),
                         nn.Dropout(0.1), nn.Linear(32, 4)).to(device)


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
def test_a_training_step_copies_nothing_to_the_host(optimizer_name, loss_name, device):
    net = model(device)
    opt = OPTIMIZERS[optimizer_name](net.parameters())
    x = ember.randn(8, 1, 8, 8, device=device)
    y = ember.tensor([0, 1, 2, 3, 0, 1, 2, 3], device=device)
    for step in range(3):
        # the step counters are host tensors wherever the parameters are (as in torch):
        # reading them is no device round trip
        counters = {id(state["step"]._data) for state in opt.state.values() if "step" in state}
        with counted_host_copies(device, ignored=counters) as copies:
            opt.zero_grad()
            loss = LOSSES[loss_name](net(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
        if step:  # the first step creates the optimizer's state
            assert copies == [], f"step {step} copied {len(copies)} arrays to the host"
    assert ember.isfinite(loss).item()
    assert all(state["step"].device.type == "cpu" for state in opt.state.values() if "step" in state)


def test_the_count_sees_a_conversion(device):
    with counted_host_copies(device, refuse_sync=False) as copies:
        float(ember.ones((), device=device) * 2)
    assert len(copies) == 1


@pytest.mark.parametrize("padding_idx", [None, 0])
def test_an_embedding_step_copies_nothing_to_the_host(padding_idx, device):
    ember.manual_seed(0)
    net = nn.ModuleDict({"embed": nn.Embedding(20, 8, padding_idx=padding_idx), "out": nn.Linear(8, 4)}).to(device)
    opt = ember.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    words = ember.randint(0, 20, (6, 5), device=device)
    y = ember.tensor([0, 1, 2, 3, 0, 1], device=device)
    for step in range(3):
        with counted_host_copies(device) as copies:
            opt.zero_grad()
            F.cross_entropy(net["out"](net["embed"](words).mean(1)), y).backward()
            opt.step()
        if step:
            assert copies == [], f"step {step} copied {len(copies)} arrays to the host"
    assert net["embed"].weight.grad.abs().sum().item() > 0


@pytest.mark.parametrize("mask", ["causal", "boolean", "additive"])
def test_an_attention_step_copies_nothing_to_the_host(mask, device):
    ember.manual_seed(0)
    proj = nn.Linear(8, 24).to(device)
    opt = ember.optim.SGD(proj.parameters(), lr=0.01)
    x = ember.randn(2, 5, 8, device=device)
    keep = ember.rand(5, 5, device=device) > 0.3
    keep[0] = False  # a query with no key: zero weights
    masks = {"causal": {"is_causal": True}, "boolean": {"attn_mask": keep},
             "additive": {"attn_mask": ember.zeros(5, 5, device=device).masked_fill(~keep, float("-inf"))}}
    for step in range(3):
        with counted_host_copies(device) as copies:
            opt.zero_grad()
            q, k, v = proj(x).chunk(3, -1)
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.1, **masks[mask])
            out.square().mean().backward()
            opt.step()
        if step:
            assert copies == [], f"step {step} copied {len(copies)} arrays to the host"
    first_query = out[:, 0].abs().sum().item()
    assert (first_query == 0) == (mask != "causal")   # the masks leave it no key: zeros


def encoder_with_causal_mask(x):
    """A Transformer encoder given the causal mask (no ``is_causal`` hint): on a GPU the
    mask is not compared with the causal one, a comparison that would wait."""
    ember.manual_seed(0)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0), 1).to(x.device)
    return encoder(x.unsqueeze(1), mask=nn.Transformer.generate_square_subsequent_mask(5, device=x.device))


# calls whose checks, or looks at the data, once waited for a GPU
CALLS = {
    "getitem": lambda x, i: x[i],
    "setitem": lambda x, i: x.clone().__setitem__(i, 0.0),
    "index_select": lambda x, i: x.index_select(0, i),
    "gather": lambda x, i: x.gather(0, i[:, None].expand(-1, 4)),
    "scatter": lambda x, i: x.scatter(0, i[:, None].expand(-1, 4), 0.0),
    "scatter_add": lambda x, i: x.scatter_add(0, i[:, None].expand(-1, 4), x[:4]),
    "index_add": lambda x, i: x.index_add(0, i, x[:4]),
    "index_copy": lambda x, i: x.index_copy(0, i[:2], x[:2]),
    "index_fill": lambda x, i: x.index_fill(0, i, 0.0),
    "put": lambda x, i: x.put(i, x[0]),
    "take": lambda x, i: x.take(i),
    "embedding": lambda x, i: F.embedding(i, x),
    "embedding max_norm": lambda x, i: F.embedding(i, x, max_norm=1.0),
    "embedding_bag": lambda x, i: F.embedding_bag(i, x, i[:2]),   # offsets [0, 2]
    "embedding_bag max": lambda x, i: F.embedding_bag(i, x, i[:2], mode="max"),
    "embedding_bag 2-D sum": lambda x, i: F.embedding_bag(i.reshape(2, 2), x, mode="sum", padding_idx=4),
    "multi_margin_loss": lambda x, i: F.multi_margin_loss(x[:4], i % 4),
    "multilabel_margin_loss": lambda x, i: F.multilabel_margin_loss(x[:4], (i % 4).expand(4, 4)),
    "gaussian_nll_loss": lambda x, i: F.gaussian_nll_loss(x, x.detach() * 0, x.detach().abs() + 1),
    "max_pool2d dilated": lambda x, i: F.max_pool2d(x.reshape(1, 1, 5, 4), 2, dilation=2, padding=1),
    "TransformerEncoder causal mask": lambda x, i: encoder_with_causal_mask(x),
    "median": lambda x, i: x.median(),
    "bernoulli": lambda x, i: ember.bernoulli(x.sigmoid()),
    "normal": lambda x, i: ember.normal(x, x.abs()),
    "multinomial": lambda x, i: ember.multinomial(x.abs() + 0.1, 3, replacement=True),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_these_calls_copy_nothing_to_the_host(name, device):
    """Their checks wait for nothing: on a GPU they report at the next synchronisation."""
    x = ember.randn(5, 4, device=device, requires_grad=True)
    i = ember.tensor([0, 2, 4, 3], device=device)
    with counted_host_copies(device) as copies:
        out = CALLS[name](x, i)
        if out is not None and out.requires_grad:
            out.square().sum().backward()
    assert copies == []
