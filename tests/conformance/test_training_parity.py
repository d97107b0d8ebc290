"""Five epochs of SGD with momentum on an MLP give torch's parameters (float64)."""

import numpy as np
import pytest

import ember
from tests.oracle import torch


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(10, 32), lib.nn.ReLU(), lib.nn.Linear(32, 16), lib.nn.Tanh(),
                             lib.nn.Linear(16, 4)).double()


@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam"])
def test_mlp_training_matches_torch(optimizer):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((8, 16, 10))          # 8 batches of 16 samples per epoch
    y = rng.integers(0, 4, (8, 16))
    t_model = _mlp(torch)
    e_model = _mlp(ember)
    e_model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_model.state_dict().items()})
    make = {"sgd_momentum": lambda lib, p: lib.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-4),
            "adam": lambda lib, p: lib.optim.Adam(p, lr=1e-2)}[optimizer]
    runs = []
    for lib, model in ((torch, t_model), (ember, e_model)):
        opt = make(lib, model.parameters())
        loss_fn = lib.nn.CrossEntropyLoss()
        for _epoch in range(5):
            for xb, yb in zip(x, y):
                opt.zero_grad()
                loss = loss_fn(model(lib.tensor(xb)), lib.tensor(yb))
                loss.backward()
                opt.step()
        runs.append({k: v.detach().numpy() for k, v in model.state_dict().items()})
    t_params, e_params = runs
    assert list(t_params) == list(e_params)
    for k in t_params:
        np.testing.assert_allclose(e_params[k], t_params[k], rtol=0, atol=1e-5, err_msg=k)
    assert loss.item() < 1.4
