"""REINFORCE on a small numpy environment (after pytorch/examples' reinforce.py),
with distributions.Categorical; actions come from the environment's own random
stream so that both libraries see the same episodes."""
import json
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical

DTYPE, STEPS = sys.argv[1], int(sys.argv[2])
torch.set_default_dtype(getattr(torch, DTYPE))
gamma = 0.99


class Walk:
    """A 1-d walk: the agent moves left/stays/right, reward for staying near 0."""

    def __init__(self, seed):
        self.rng = np.random.RandomState(seed)

    def reset(self):
        self.pos = self.rng.uniform(-1, 1)
        self.vel = 0.0
        return np.array([self.pos, self.vel, self.pos * self.vel, 1.0])

    def step(self, action):
        self.vel = 0.8 * self.vel + 0.1 * (action - 1)
        self.pos += self.vel + 0.01 * self.rng.randn()
        reward = 1.0 - abs(self.pos)
        return np.array([self.pos, self.vel, self.pos * self.vel, 1.0]), reward

    def choose(self, probs):
        """Inverse-CDF sample of an action from the policy's probabilities."""
        return int(np.searchsorted(np.cumsum(probs), self.rng.uniform() * probs.sum()))


class Policy(nn.Module):
    def __init__(self):
        super(Policy, self).__init__()
        self.affine1 = nn.Linear(4, 32)
        self.affine2 = nn.Linear(32, 3)

    def forward(self, x):
        x = F.relu(self.affine1(x))
        return F.softmax(self.affine2(x), dim=1)


policy = Policy()
rng = np.random.RandomState(1)
with torch.no_grad():
    for p in policy.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape))))
optimizer = optim.Adam(policy.parameters(), lr=1e-2)
env = Walk(2)
eps = 1e-8

losses = []
for episode in range(STEPS):
    state = env.reset()
    log_probs, rewards, entropies = [], [], []
    for t in range(15):
        state_t = torch.from_numpy(state).to(torch.get_default_dtype()).unsqueeze(0)
        probs = policy(state_t)
        m = Categorical(probs)
        assert m.sample().shape == (1,)
        action = torch.tensor([env.choose(probs.detach().numpy()[0])])
        log_probs.append(m.log_prob(action))
        entropies.append(m.entropy())
        state, reward = env.step(action.item())
        rewards.append(reward)
    R, returns = 0, []
    for r in rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    policy_loss = torch.cat([-lp * R for lp, R in zip(log_probs, returns)]).sum()
    loss = policy_loss - 0.01 * torch.cat(entropies).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(json.dumps(losses))
