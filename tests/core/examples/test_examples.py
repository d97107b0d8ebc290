"""The runnable examples train to their targets (run in-process, shortened)."""

import pytest

import ember


def test_fit_sine_loss_goes_down():
    from ember.examples import fit_sine

    first = fit_sine.train(steps=1, log_every=0)
    last = fit_sine.train(steps=400, log_every=0)
    assert last < first / 2


@pytest.fixture
def digits():
    pytest.importorskip("sklearn")
    needed = ("Linear", "CrossEntropyLoss", "Conv2d", "MaxPool2d", "Flatten")
    if not all(hasattr(ember.nn, name) for name in needed):
        pytest.skip("the linear, losses, conv, pooling and utils plugins are needed")
    from ember.examples import digits

    return digits


def test_digits_training_learns(digits):
    model, history = digits.train(epochs=8, progress=False)
    assert len(history["loss"]) == len(history["test_accuracy"]) == 8
    assert all(a > b for a, b in zip(history["loss"], history["loss"][1:]))
    assert history["test_accuracy"][-1] > 0.95
    assert history["train_accuracy"][-1] > 0.95
    assert isinstance(model, ember.nn.Module)


def test_digits_main_writes_plot_and_reports(digits, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    pytest.importorskip("tqdm")
    path = tmp_path / "curves.png"
    status = digits.main(["--epochs", "8", "--plot", str(path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "test accuracy 0.9" in out and "epoch  8/8" in out
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_digits_mlp_option_learns(digits):
    model, history = digits.train(epochs=3, progress=False, model="mlp")
    assert isinstance(model[0], ember.nn.Linear)
    assert history["test_accuracy"][-1] > 0.9


def test_digits_unknown_model_is_refused(digits):
    with pytest.raises(ValueError, match="unknown model 'rnn'"):
        digits.build_model("rnn")


def test_digits_exit_status_when_below_target(digits, tmp_path):
    # One epoch at a tiny learning rate cannot reach 97%: the run must report failure.
    assert digits.main(["--epochs", "1", "--lr", "1e-5", "--plot", "", "--no-progress"]) == 1
