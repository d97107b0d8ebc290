"""Classify scikit-learn's 8x8 handwritten digits with a small CNN trained by ember.

Run ``python -m ember.examples.digits``: it trains a LeNet-like network (two
3x3 convolutions with ReLU, 2x2 max pooling, then two linear layers) with
``ember.nn.CrossEntropyLoss`` and ``ember.optim.SGD`` (momentum) on a stratified
75/25 split of ``sklearn.datasets.load_digits`` (pixels standardised on the
training part), shows a progress bar per epoch, prints the test accuracy, saves
the loss and accuracy curves to a PNG (``--plot``), and exits with status 1 if
the test accuracy is below 97%. ``--model mlp`` trains a 64-128-10 MLP instead.

``--distributed`` trains the same network on every rank of a distributed job with
``DistributedDataParallel``: each rank takes its share of each batch through a
``DistributedSampler`` (the global batch stays ``--batch-size``), and rank 0 reports::

    python -m ember.distributed.run --nproc-per-node 2 -m ember.examples.digits --distributed

It needs the ``examples`` extra (``pip install "ember[examples]"``: scikit-learn,
tqdm, matplotlib).
"""

import argparse
import sys
import time

import numpy as np

import ember

#: Below this test accuracy the run counts as failed (exit status 1).
TARGET_ACCURACY = 0.97

#: Titles of the networks ``build_model`` knows, for the plot.
MODELS = {"cnn": "LeNet-like CNN", "mlp": "64-128-10 MLP"}

#: Default SGD learning rate of each network.
LEARNING_RATES = {"cnn": 0.03, "mlp": 0.05}


def load_data(test_size=0.25, seed=0):
    """The digits as standardised float32 features and int64 labels.

    Returns ``(x_train, y_train, x_test, y_test)`` as NumPy arrays; the split is
    stratified and the scaler is fitted on the training part only.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(x_train)
    prepare = lambda a: scaler.transform(a).astype(np.float32)  # noqa: E731
    return prepare(x_train), y_train.astype(np.int64), prepare(x_test), y_test.astype(np.int64)


def build_model(kind="cnn", hidden=128, classes=10):
    """The network for 8x8 digits: ``"cnn"`` (LeNet-like, input ``(N, 1, 8, 8)``)
    or ``"mlp"`` (``64 -> hidden -> classes``, input ``(N, 64)``); ``hidden`` is the
    width of the hidden linear layer of either."""
    nn = ember.nn
    if kind == "mlp":
        return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, classes))
    if kind != "cnn":
        raise ValueError(f"unknown model {kind!r}; choose one of {sorted(MODELS)}")
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),                     # 16 x 8 x 8
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 32 x 4 x 4
        nn.Flatten(), nn.Linear(512, hidden), nn.ReLU(), nn.Linear(hidden, classes))


def _as_input(x, kind):
    """Rows of 64 pixels as the model's input: images ``(N, 1, 8, 8)`` for the CNN."""
    return x.reshape(-1, 1, 8, 8) if kind == "cnn" else x


def accuracy(model, x, y):
    """Fraction of the rows of ``x`` (ember tensor) whose predicted class equals ``y``."""
    with ember.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def _epoch_order(sampler, epoch):
    """This rank's training rows in ``epoch``, in order."""
    sampler.set_epoch(epoch)
    return np.fromiter(sampler, dtype=np.int64, count=len(sampler))


def _global_sum(value):
    """``value`` summed over the ranks of the distributed job (itself without one)."""
    from ember import distributed as dist

    if not dist.is_initialized():
        return value
    total = ember.tensor([value], dtype=ember.float64)
    dist.all_reduce(total)
    return total.item()


def train(epochs=20, batch_size=64, lr=None, momentum=0.9, hidden=128, seed=0, progress=True,
          model="cnn", distributed=False):
    """Train the network ``model`` (see :func:`build_model`) with SGD at ``lr``
    (default: ``LEARNING_RATES[model]``); returns ``(model, history)``.

    ``distributed``: train with ``DistributedDataParallel`` on every rank of the job
    (``ember.distributed`` initialized first), each rank on ``batch_size / world_size``
    rows of every batch.

    ``history`` holds per-epoch lists: ``"loss"`` (mean training loss over the
    epoch's batches), ``"train_accuracy"`` and ``"test_accuracy"``. ``progress``
    shows a tqdm bar per epoch with the running loss.
    """
    kind = model
    lr = LEARNING_RATES.get(kind, 0.05) if lr is None else lr
    x_train, y_train, x_test, y_test = load_data(seed=seed)
    x_train, x_test = _as_input(x_train, kind), _as_input(x_test, kind)
    ember.manual_seed(seed)
    model = build_model(kind, hidden)
    world, rank = 1, 0
    if distributed:
        from ember import distributed as dist

        world, rank = dist.get_world_size(), dist.get_rank()
        if batch_size % world:
            raise ValueError(f"--batch-size {batch_size} must be a multiple of the {world} ranks")
        model = ember.nn.parallel.DistributedDataParallel(model)
    # Rank r takes rows r, r + world, ... of one shuffled order: the ranks' k-th batches
    # together are the k-th batch of batch_size rows that one process would take.
    sampler = ember.utils.data.DistributedSampler(range(len(x_train)), world, rank, seed=seed)
    share = batch_size // world
    criterion = ember.nn.CrossEntropyLoss()
    optimizer = ember.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    xt_train, yt_train = ember.from_numpy(x_train), ember.from_numpy(y_train)
    xt_test, yt_test = ember.from_numpy(x_test), ember.from_numpy(y_test)

    if progress:
        from tqdm import tqdm
    history = {"loss": [], "train_accuracy": [], "test_accuracy": []}
    for epoch in range(1, epochs + 1):
        order = _epoch_order(sampler, epoch)
        batches = range(0, len(order), share)
        bar = tqdm(batches, desc=f"epoch {epoch:2d}/{epochs}", unit="batch", leave=False,
                   file=sys.stdout) if progress else batches
        total = 0.0
        for start in bar:
            idx = order[start:start + share]
            xb, yb = ember.from_numpy(x_train[idx]), ember.from_numpy(y_train[idx])
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            value = loss.item()
            total += value * len(idx)
            if progress:
                bar.set_postfix(loss=f"{value:.4f}", refresh=False)
        history["loss"].append(_global_sum(total) / _global_sum(len(order)))
        history["train_accuracy"].append(accuracy(model, xt_train, yt_train))
        history["test_accuracy"].append(accuracy(model, xt_test, yt_test))
        if progress:
            bar.close()
            tqdm.write(f"epoch {epoch:2d}/{epochs}  loss {history['loss'][-1]:.4f}  "
                       f"train acc {history['train_accuracy'][-1]:.4f}  "
                       f"test acc {history['test_accuracy'][-1]:.4f}", file=sys.stdout)
    return model, history


def plot(history, path, title=MODELS["cnn"]):
    """Save the loss and accuracy curves of ``history`` as a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = range(1, len(history["loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, history["loss"], marker="o")
    ax_loss.set(title="training loss (cross-entropy)", xlabel="epoch", ylabel="loss")
    ax_loss.set_yscale("log")
    ax_acc.plot(epochs, history["train_accuracy"], marker="o", label="train")
    ax_acc.plot(epochs, history["test_accuracy"], marker="s", label="test")
    ax_acc.axhline(TARGET_ACCURACY, color="grey", linestyle="--", label="target")
    ax_acc.set(title="accuracy", xlabel="epoch", ylabel="accuracy")
    ax_acc.legend()
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"ember: {title} on sklearn digits")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="cnn")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=None,
                        help="SGD learning rate (default: 0.03 for the CNN, 0.05 for the MLP)")
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--hidden", type=int, default=128, help="width of the hidden linear layer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="digits_curves.png",
                        help="where to save the curves (PNG); empty for none")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--distributed", action="store_true",
                        help="train with DistributedDataParallel on every rank of the job "
                             "(start it with python -m ember.distributed.run or mpiexec)")
    args = parser.parse_args(argv)
    try:
        import matplotlib  # noqa: F401
        import sklearn  # noqa: F401
        import tqdm  # noqa: F401
    except ImportError as exc:
        print(f"this example needs the 'examples' extra ({exc.name} is missing): "
              'pip install "ember[examples]"', file=sys.stderr)
        return 2

    lead = True
    if args.distributed:
        from ember import distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("mpi")
        lead = dist.get_rank() == 0
    start = time.perf_counter()
    _, history = train(args.epochs, args.batch_size, args.lr, args.momentum, args.hidden,
                       args.seed, progress=lead and not args.no_progress, model=args.model,
                       distributed=args.distributed)
    seconds = time.perf_counter() - start
    acc = history["test_accuracy"][-1]
    if lead:
        ranks = f" on {dist.get_world_size()} ranks" if args.distributed else ""
        print(f"test accuracy {acc:.4f} after {args.epochs} epochs in {seconds:.1f} s{ranks}")
    if args.plot and lead:
        plot(history, args.plot, MODELS[args.model])
        print(f"curves saved to {args.plot}")
    if acc < TARGET_ACCURACY and lead:   # the other ranks end quietly: rank 0 alone reports
        print(f"FAILED: test accuracy below {TARGET_ACCURACY:.2f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
