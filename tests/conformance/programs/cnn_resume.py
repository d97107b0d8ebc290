"""A small CNN with BatchNorm and Dropout (after pytorch/examples' mnist): a DataLoader
over a TensorDataset with a Sampler subclass, SGD with momentum, a StepLR scheduler,
and training that stops halfway, saves {'epoch', 'model', 'optimizer', 'scheduler'},
and resumes from that checkpoint in fresh objects."""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.sampler import Sampler

DTYPE, STEPS, DROPOUT, WORKDIR = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
torch.set_default_dtype(getattr(torch, DTYPE))
rng = np.random.RandomState(4)


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=3)
        self.bn1 = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 8, kernel_size=3)
        self.conv2_drop = nn.Dropout2d(DROPOUT)
        self.fc1 = nn.Linear(8 * 2 * 2, 16)
        self.fc2 = nn.Linear(16, 3)
        self.drop = nn.Dropout(DROPOUT)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.bn1(self.conv1(x)), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 8 * 2 * 2)
        x = self.drop(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


class SeededShuffle(Sampler):
    """Yields a new permutation each epoch from its own numpy generator."""

    def __init__(self, n, seed):
        self.n, self.rng = n, np.random.RandomState(seed)

    def __iter__(self):
        return iter(self.rng.permutation(self.n).tolist())

    def __len__(self):
        return self.n


images = torch.from_numpy(rng.randn(48, 1, 14, 14)).to(torch.get_default_dtype())
labels = torch.from_numpy(rng.randint(0, 3, 48)).long()
images[labels == 1, :, 3:8, 3:8] += 1.5
images[labels == 2, :, 6:12, 2:6] -= 1.5
initial = {name: rng.uniform(-0.3, 0.3, tuple(p.shape))
           for name, p in sorted(Net().state_dict().items()) if p.dtype.is_floating_point}


def build():
    model = Net()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(initial[name]))
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.7)
    return model, optimizer, scheduler


def train(model, optimizer, loader, losses, steps):
    model.train()
    for data, target in loader:
        if len(losses) == steps:
            break
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())


def test(model, losses):
    model.eval()
    with torch.no_grad():
        output = model(images)
        losses.append(F.nll_loss(output, labels, reduction='sum').item() / len(images))
        pred = output.max(1, keepdim=True)[1]
        losses.append(pred.eq(labels.view_as(pred)).sum().item())


loader = DataLoader(TensorDataset(images, labels), batch_size=8, sampler=SeededShuffle(48, 5))
checkpoint = os.path.join(WORKDIR, 'checkpoint.pth.tar')
model, optimizer, scheduler = build()
losses, epoch = [], 0
while len(losses) < STEPS // 2:
    train(model, optimizer, loader, losses, STEPS // 2)
    scheduler.step()
    epoch += 1
torch.save({'epoch': epoch, 'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
            'scheduler': scheduler.state_dict(), 'losses': losses}, checkpoint)
del model, optimizer, scheduler
model, optimizer, scheduler = build()
state = torch.load(checkpoint)
model.load_state_dict(state['model'])
optimizer.load_state_dict(state['optimizer'])
scheduler.load_state_dict(state['scheduler'])
epoch, losses = state['epoch'], list(state['losses'])
while len(losses) < STEPS:
    train(model, optimizer, loader, losses, STEPS)
    scheduler.step()
    epoch += 1
test(model, losses)
print(json.dumps(losses))
