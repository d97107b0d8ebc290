"""A PyTorch 1.0 style training script runs unchanged with ``import ember as torch``."""

import textwrap

SCRIPT = textwrap.dedent('''
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
    from torch.utils.data import DataLoader, TensorDataset

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.fc1 = nn.Linear(20, 64)
            self.drop = nn.Dropout(0.1)
            self.fc2 = nn.Linear(64, 3)

        def forward(self, x):
            x = F.relu(self.fc1(x))
            return F.log_softmax(self.fc2(self.drop(x)), dim=1)

    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    centers = torch.randn(3, 20) * 3
    labels = torch.randint(0, 3, (300,))
    inputs = centers[labels] + torch.randn(300, 20)
    loader = DataLoader(TensorDataset(inputs, labels), batch_size=32, shuffle=True)
    model = Net().to(device)
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    losses = []
    for epoch in range(4):
        model.train()
        for data, target in loader:
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            loss = F.nll_loss(model(data), target)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        output = model(inputs.to(device))
        _, predicted = torch.max(output, 1)
        correct += (predicted == labels).sum().item()
    accuracy = correct / len(labels)
''')


def _run(module):
    import sys

    saved = {k: sys.modules.get(k) for k in ("torch", "torch.nn", "torch.nn.functional", "torch.optim",
                                              "torch.utils", "torch.utils.data")}
    try:
        sys.modules.update({"torch": module, "torch.nn": module.nn, "torch.nn.functional": module.nn.functional,
                            "torch.optim": module.optim, "torch.utils": module.utils,
                            "torch.utils.data": module.utils.data})
        scope = {}
        exec(compile(SCRIPT, "<pytorch-1.0-script>", "exec"), scope)
        return scope
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def test_script_trains_with_ember():
    import ember

    scope = _run(ember)
    assert scope["losses"][-1] < scope["losses"][0] / 4
    assert scope["accuracy"] > 0.95
    assert scope["optimizer"].param_groups[0]["lr"] == 0.05 * 0.25
