"""Graph networks on a sparse adjacency (after pyGAT / pygcn): the normalised adjacency
D^-1/2 (A + I) D^-1/2 built with diag(...).to_sparse() and sparse @ dense products, a graph convolution layer using torch.sparse.mm, and a graph attention layer
whose attention coefficients are the values of a sparse_coo_tensor (so the gradient
flows through the sparse tensor's values). The device comes from torch.accelerator;
Adam with weight decay, masked NLL over the training nodes."""
import json
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE, STEPS = sys.argv[1], int(sys.argv[2])
torch.set_default_dtype(getattr(torch, DTYPE))
device = torch.accelerator.current_accelerator() if torch.accelerator.is_available() else "cpu"
nodes, features, hidden, classes = 30, 12, 8, 3

rng = np.random.RandomState(11)
edges = rng.randint(0, nodes, size=(2, 80))
edges = edges[:, edges[0] != edges[1]]
dense_adj = np.zeros((nodes, nodes))
dense_adj[edges[0], edges[1]] = 1.0
dense_adj = np.maximum(dense_adj, dense_adj.T)
labels = torch.tensor(rng.randint(0, classes, size=nodes), dtype=torch.long, device=device)
x = torch.tensor(rng.randn(nodes, features), dtype=torch.get_default_dtype(), device=device)
train_mask = torch.tensor(rng.rand(nodes) < 0.6, device=device)

a = torch.tensor(dense_adj, dtype=torch.get_default_dtype(), device=device) + torch.eye(nodes, device=device)
d_inv_sqrt = torch.diag(a.sum(1).pow(-0.5)).to_sparse()
adj = torch.mm(torch.sparse.mm(d_inv_sqrt, a), d_inv_sqrt.to_dense()).to_sparse()
edge_index = a.nonzero().t()


class GraphConvolution(nn.Module):
    def __init__(self, in_features, out_features):
        super(GraphConvolution, self).__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.empty(out_features))

    def forward(self, x, adj):
        return torch.sparse.mm(adj, torch.mm(x, self.weight)) + self.bias


class SparseGraphAttention(nn.Module):
    def __init__(self, in_features, out_features, alpha=0.2):
        super(SparseGraphAttention, self).__init__()
        self.W = nn.Parameter(torch.empty(in_features, out_features))
        self.a = nn.Parameter(torch.empty(1, 2 * out_features))
        self.leakyrelu = nn.LeakyReLU(alpha)

    def forward(self, x, edge):
        h = torch.mm(x, self.W)
        pairs = torch.cat((h[edge[0, :], :], h[edge[1, :], :]), dim=1).t()
        edge_e = torch.exp(-self.leakyrelu(self.a.mm(pairs).squeeze()))
        n = x.size(0)
        attention = torch.sparse_coo_tensor(edge, edge_e, torch.Size([n, n]))
        rowsum = torch.sparse.mm(attention, torch.ones(n, 1, device=x.device))
        h_prime = torch.sparse.mm(attention, h)
        return F.elu(h_prime.div(rowsum))


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.gc = GraphConvolution(features, hidden)
        self.gat = SparseGraphAttention(hidden, classes)

    def forward(self, x, adj, edge):
        h = F.relu(self.gc(x, adj))
        return F.log_softmax(self.gat(h, edge), dim=1)


model = Net().to(device)
with torch.no_grad():
    for name, p in sorted(model.named_parameters()):
        p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(p.shape))))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02, weight_decay=5e-4)

losses = []
for step in range(STEPS):
    model.train()
    optimizer.zero_grad()
    output = model(x, adj, edge_index)
    loss = F.nll_loss(output[train_mask], labels[train_mask])
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
model.eval()
with torch.no_grad():
    output = model(x, adj, edge_index)
    losses.append(F.nll_loss(output[~train_mask], labels[~train_mask]).item())
    losses.append(output.argmax(1).eq(labels).double().mean().item())
print(json.dumps(losses))
