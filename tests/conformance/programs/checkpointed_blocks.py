"""A deep MLP whose blocks run under torch.utils.checkpoint (recomputed in backward)
and checkpoint_sequential, trained with SGD + momentum."""
import json
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint, checkpoint_sequential

DTYPE, STEPS = sys.argv[1], int(sys.argv[2])
torch.set_default_dtype(getattr(torch, DTYPE))
rng = np.random.RandomState(6)


class Block(nn.Module):
    def __init__(self, width):
        super(Block, self).__init__()
        self.fc = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width)

    def forward(self, x):
        return x + torch.tanh(self.norm(self.fc(x)))


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.inp = nn.Linear(5, 16)
        self.blocks = nn.ModuleList([Block(16) for _ in range(3)])
        self.tail = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU())
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        x = self.inp(x)
        for block in self.blocks:
            x = checkpoint(block, x, use_reentrant=False)
        x = checkpoint_sequential(self.tail, 2, x, use_reentrant=False)
        return self.out(x)


model = Net()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, tuple(p.shape))))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
x = torch.from_numpy(rng.randn(32, 5)).to(torch.get_default_dtype())
y = (x[:, :1] * x[:, 1:2]).sin() + x[:, 2:3]
losses = []
for step in range(STEPS):
    optimizer.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(json.dumps(losses))
