"""One step of small real programs, written once for ember and torch like the builders
of ``workloads``: a word-level LSTM language model, a digits CNN trained with Adam
and a polynomial regression, at the sizes of the classic examples (float32).
"""

from .training_workloads import classifier_step

#: The word-level language model's sizes: vocabulary, embedding and hidden width,
#: LSTM layers, and the steps of truncated backpropagation through time.
VOCAB, EMBEDDING, HIDDEN, LAYERS, BPTT = 10_000, 200, 200, 2, 35


def word_lm_training_step(lib, device, batch, lr=20.0, clip=0.25):
    """One training step of a word-level language model on ``batch`` streams of 35 tokens.

    Embedding(10000, 200), a 2-layer LSTM 200/200 and a Linear decoder back to the
    vocabulary; cross-entropy on the next token, ``clip_grad_norm_(0.25)`` and an
    SGD step. The hidden state is carried from step to step, detached, as the
    training loop of a language model does.
    """
    lib.manual_seed(0)
    nn = lib.nn
    encoder = nn.Embedding(VOCAB, EMBEDDING).to(device)
    rnn = nn.LSTM(EMBEDDING, HIDDEN, LAYERS).to(device)
    decoder = nn.Linear(HIDDEN, VOCAB).to(device)
    params = [p for layer in (encoder, rnn, decoder) for p in layer.parameters()]
    optimizer = lib.optim.SGD(params, lr=lr)
    criterion = nn.CrossEntropyLoss()
    tokens = lib.randint(0, VOCAB, (BPTT + 1, batch), device=device)
    inputs, targets = tokens[:-1], tokens[1:].reshape(-1)
    hidden = [tuple(lib.zeros(LAYERS, batch, HIDDEN, device=device) for _ in range(2))]

    def run():
        optimizer.zero_grad()
        output, state = rnn(encoder(inputs), tuple(h.detach() for h in hidden[0]))
        hidden[0] = state
        criterion(decoder(output).reshape(-1, VOCAB), targets).backward()
        nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()

    return run


def digits_cnn(nn):
    """A CNN for 1 x 8 x 8 digit images: two 3x3 convolutions with BatchNorm2d and
    ReLU, 2x2 max pooling, then Dropout, Linear 512-64, ReLU, Dropout, Linear 64-10."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(64, 10))


def digits_cnn_training_step(lib, device, batch):
    """One Adam step of :func:`digits_cnn` in training mode on a (batch, 1, 8, 8) batch."""
    lib.manual_seed(0)
    model = digits_cnn(lib.nn).to(device).train()
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    return classifier_step(lib, device, model, optimizer, lib.randn(batch, 1, 8, 8, device=device))


def polynomial_regression_step(lib, device, batch, degree=4):
    """One SGD step fitting a polynomial of degree 4 with ``Linear(4, 1)``.

    Each step builds the features x, x^2, x^3, x^4 of a (batch, 1) input, as the
    classic example does per batch, then smooth L1 loss against fixed targets,
    backward and ``SGD(lr=0.1).step()``.
    """
    lib.manual_seed(0)
    model = lib.nn.Linear(degree, 1).to(device)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
    x = lib.randn(batch, 1, device=device)
    target = lib.randn(batch, 1, device=device)

    def run():
        features = lib.cat([x ** power for power in range(1, degree + 1)], 1)
        optimizer.zero_grad()
        lib.nn.functional.smooth_l1_loss(model(features), target).backward()
        optimizer.step()

    return run
