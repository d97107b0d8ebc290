"""Sine-wave sequence prediction with LSTMCells and LBFGS (after pytorch/examples'
time_sequence_prediction).

L-BFGS magnifies rounding differences step by step (in float32 a larger net or
more inner iterations drift apart by 1e-1 within 20 steps, in either library against
the other); this size and 2 inner iterations keep float32 runs within 4e-5."""
import json
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

DTYPE, STEPS = sys.argv[1], int(sys.argv[2])
torch.set_default_dtype(getattr(torch, DTYPE))

T, L, N = 20, 40, 6
rng = np.random.RandomState(2)
x = np.empty((N, L), "int64")
x[:] = np.array(range(L)) + rng.randint(-4 * T, 4 * T, N).reshape(N, 1)
data = np.sin(x / 1.0 / T)


class Sequence(nn.Module):
    def __init__(self):
        super(Sequence, self).__init__()
        self.lstm1 = nn.LSTMCell(1, 10)
        self.lstm2 = nn.LSTMCell(10, 10)
        self.linear = nn.Linear(10, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), 10)
        c_t = torch.zeros(input.size(0), 10)
        h_t2 = torch.zeros(input.size(0), 10)
        c_t2 = torch.zeros(input.size(0), 10)
        for input_t in input.chunk(input.size(1), dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        return torch.stack(outputs, 1).squeeze(2)


input = torch.from_numpy(data[3:, :-1]).to(torch.get_default_dtype())
target = torch.from_numpy(data[3:, 1:]).to(torch.get_default_dtype())
test_input = torch.from_numpy(data[:3, :-1]).to(torch.get_default_dtype())
test_target = torch.from_numpy(data[:3, 1:]).to(torch.get_default_dtype())
seq = Sequence()
with torch.no_grad():
    for p in seq.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape))))
criterion = nn.MSELoss()
optimizer = optim.LBFGS(seq.parameters(), lr=0.5, max_iter=2, line_search_fn=sys.argv[3] if len(sys.argv) > 3 else None)
losses = []
for i in range(STEPS):
    def closure():
        optimizer.zero_grad()
        out = seq(input)
        loss = criterion(out, target)
        loss.backward()
        return loss
    loss = optimizer.step(closure)
    losses.append(loss.item())
    with torch.no_grad():
        pred = seq(test_input, future=5)
        losses.append(criterion(pred[:, :-5], test_target).item())
print(json.dumps(losses))
