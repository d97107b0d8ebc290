"""Word-level language model (after pytorch/examples' word_language_model): Embedding,
a 2-layer LSTM or GRU, a decoder tied to nothing, truncated BPTT with detached hidden
states, gradient clipping, manual SGD, and a checkpoint of the best model reloaded
for the final evaluation."""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

DTYPE, STEPS, RNN_TYPE, WORKDIR = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
torch.set_default_dtype(getattr(torch, DTYPE))
ntokens, emsize, nhid, bptt, batch_size, clip, lr = 50, 16, 24, 7, 4, 0.25, 5.0

rng = np.random.RandomState(3)
# a corpus with structure: each word tends to follow from the one before
transition = rng.dirichlet(np.full(ntokens, 0.1), size=ntokens)
words = [0]
for _ in range(batch_size * (STEPS * bptt + 2 * bptt) + 1):
    words.append(rng.choice(ntokens, p=transition[words[-1]]))
corpus = torch.LongTensor(words)


class RNNModel(nn.Module):
    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers):
        super(RNNModel, self).__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers)
        self.decoder = nn.Linear(nhid, ntoken)
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

    def forward(self, input, hidden):
        emb = self.encoder(input)
        output, hidden = self.rnn(emb, hidden)
        decoded = self.decoder(output.view(output.size(0) * output.size(1), output.size(2)))
        return decoded.view(output.size(0), output.size(1), decoded.size(1)), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == 'LSTM':
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].view(-1)


train_data = batchify(corpus, batch_size)
model = RNNModel(RNN_TYPE, ntokens, emsize, nhid, 2)
with torch.no_grad():
    for name, p in sorted(model.named_parameters()):
        p.copy_(torch.from_numpy(rng.uniform(-0.2, 0.2, tuple(p.shape))))
criterion = nn.CrossEntropyLoss()


def evaluate(data_source):
    model.eval()
    total_loss = 0.
    hidden = model.init_hidden(batch_size)
    with torch.no_grad():
        for i in range(0, 2 * bptt, bptt):
            data, targets = get_batch(data_source, i)
            output, hidden = model(data, hidden)
            total_loss += len(data) * criterion(output.view(-1, ntokens), targets).item()
    return total_loss / (2 * bptt)


losses = []
best_val_loss = None
hidden = model.init_hidden(batch_size)
checkpoint = os.path.join(WORKDIR, 'model.pt')
for step, i in enumerate(range(0, STEPS * bptt, bptt)):
    model.train()
    data, targets = get_batch(train_data, i)
    hidden = repackage_hidden(hidden)
    model.zero_grad()
    output, hidden = model(data, hidden)
    loss = criterion(output.view(-1, ntokens), targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    for p in model.parameters():
        p.data.add_(p.grad.data, alpha=-lr)
    losses.append(loss.item())
    if step % 5 == 4:
        val_loss = evaluate(train_data)
        losses.append(val_loss)
        if not best_val_loss or val_loss < best_val_loss:
            with open(checkpoint, 'wb') as f:
                torch.save(model.state_dict(), f)
            best_val_loss = val_loss
model = RNNModel(RNN_TYPE, ntokens, emsize, nhid, 2)
with open(checkpoint, 'rb') as f:
    model.load_state_dict(torch.load(f))
losses.append(evaluate(train_data))
print(json.dumps(losses))
