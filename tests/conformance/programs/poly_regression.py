"""Polynomial regression (after pytorch/examples' regression): fit y = w.x^(1..4) + b."""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

DTYPE, STEPS = sys.argv[1], int(sys.argv[2])
torch.set_default_dtype(getattr(torch, DTYPE))
POLY_DEGREE = 4
rng = np.random.RandomState(0)
W_target = torch.from_numpy(rng.randn(POLY_DEGREE, 1)).to(torch.get_default_dtype()) * 5
b_target = torch.from_numpy(rng.randn(1)).to(torch.get_default_dtype()) * 5


def make_features(x):
    """Builds features i.e. a matrix with columns [x, x^2, x^3, x^4]."""
    x = x.unsqueeze(1)
    return torch.cat([x ** i for i in range(1, POLY_DEGREE + 1)], 1)


def f(x):
    return x.mm(W_target) + b_target.item()


def get_batch(batch_size=32):
    random = torch.from_numpy(rng.randn(batch_size)).to(torch.get_default_dtype())
    x = make_features(random)
    return x, f(x)


fc = torch.nn.Linear(W_target.size(0), 1)
with torch.no_grad():
    fc.weight.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, (1, POLY_DEGREE))))
    fc.bias.fill_(0.1)

losses = []
for batch_idx in range(STEPS):
    batch_x, batch_y = get_batch()
    fc.zero_grad()
    output = F.smooth_l1_loss(fc(batch_x), batch_y)
    loss = output.item()
    output.backward()
    for param in fc.parameters():
        param.data.add_(-0.01 * param.grad.data)
    losses.append(loss)
print(json.dumps(losses))
