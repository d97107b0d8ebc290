"""Random draws: bernoulli(_), multinomial, normal, and the in-place exponential_,
geometric_, log_normal_, cauchy_, random_, uniform_, normal_.

Distributions are checked statistically with fixed seeds on 200k draws; every bound
is six standard errors wide, so a correct sampler fails with probability < 1e-8.
Supports, dtypes, reproducibility, autograd bookkeeping and errors are compared with
torch's."""

import numpy as np
import pytest

import ember
from tests.oracle import same_outcome, torch

N = 200_000
FLOATS = ["float32", "float64"]


def _within(sample_mean, mean, sd, n=N):
    assert abs(sample_mean - mean) <= 6 * sd / np.sqrt(n), (sample_mean, mean, sd)


def _fill(method, *args, dtype="float64", n=N, seed=0, **kwargs):
    ember.manual_seed(seed)
    t = ember.empty(n, dtype=getattr(ember, dtype))
    out = getattr(t, method)(*args, **kwargs)
    assert out is t
    return t.numpy().astype(np.float64)


# ------------------------------------------------------------------ distributions


@pytest.mark.parametrize("dtype", FLOATS)
def test_uniform(dtype):
    x = _fill("uniform_", -2.0, 3.0, dtype=dtype)
    assert x.min() >= -2.0 and x.max() < 3.0
    _within(x.mean(), 0.5, 5 / np.sqrt(12))
    _within((x < -1).mean(), 0.2, np.sqrt(0.2 * 0.8))
    assert (_fill("uniform_", **{"from": 1.0, "to": 1.0}, dtype=dtype, n=10) == 1).all()


@pytest.mark.parametrize("dtype", FLOATS)
def test_normal_(dtype):
    x = _fill("normal_", 1.5, 2.0, dtype=dtype)
    _within(x.mean(), 1.5, 2.0)
    _within(x.var(), 4.0, 4.0 * np.sqrt(2))
    assert (_fill("normal_", 3.0, 0.0, dtype=dtype, n=10) == 3).all()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("lambd", [0.5, 1.0, 4.0])
def test_exponential(dtype, lambd):
    x = _fill("exponential_", lambd, dtype=dtype)
    assert x.min() >= 0
    _within(x.mean(), 1 / lambd, 1 / lambd)
    _within((x > 1 / lambd).mean(), np.exp(-1), np.sqrt(np.exp(-1) * (1 - np.exp(-1))))
    assert (_fill("exponential_", float("inf"), dtype=dtype, n=10) == 0).all()


@pytest.mark.parametrize("dtype", FLOATS + ["int64", "int32", "uint8"])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_geometric(dtype, p):
    x = _fill("geometric_", p, dtype=dtype)
    assert x.min() >= 1 and (x == np.round(x)).all()
    if dtype != "uint8":  # uint8 wraps the (rare) draws above 255
        _within(x.mean(), 1 / p, np.sqrt(1 - p) / p)
    _within((x == 1).mean(), p, np.sqrt(p * (1 - p)))


@pytest.mark.parametrize("dtype", FLOATS)
def test_log_normal(dtype):
    x = _fill("log_normal_", 0.5, 0.75, dtype=dtype)
    assert x.min() > 0
    _within(np.log(x).mean(), 0.5, 0.75)
    _within(np.log(x).var(), 0.75 ** 2, 0.75 ** 2 * np.sqrt(2))
    defaults = np.log(_fill("log_normal_", dtype=dtype))
    _within(defaults.mean(), 1.0, 2.0)


@pytest.mark.parametrize("dtype", FLOATS)
def test_cauchy(dtype):
    x = _fill("cauchy_", -1.0, 3.0, dtype=dtype)
    for point, fraction in ((-1.0, 0.5), (2.0, 0.75), (-4.0, 0.25)):
        _within((x < point).mean(), fraction, np.sqrt(fraction * (1 - fraction)))


@pytest.mark.parametrize("dtype", FLOATS + ["int64", "uint8", "bool"])
def test_bernoulli_in_place_with_a_number(dtype):
    x = _fill("bernoulli_", 0.3, dtype=dtype)
    assert set(np.unique(x)) <= {0.0, 1.0}
    _within(x.mean(), 0.3, np.sqrt(0.21))
    assert not _fill("bernoulli_", 0.0, dtype=dtype, n=100).any()
    assert _fill("bernoulli_", 1.0, dtype=dtype, n=100).all()
    _within(_fill("bernoulli_", dtype=dtype).mean(), 0.5, 0.5)


@pytest.mark.parametrize("dtype", FLOATS)
def test_bernoulli_with_probability_tensors(dtype):
    probs = np.array([0.0, 0.2, 0.5, 0.95, 1.0])
    p = ember.tensor(probs, dtype=getattr(ember, dtype))
    ember.manual_seed(1)
    rows = N // 5
    drawn = ember.bernoulli(p.expand(rows, 5))
    assert drawn.dtype is p.dtype and tuple(drawn.shape) == (rows, 5)
    in_place = ember.empty(rows, 5, dtype=ember.int64).bernoulli_(p)
    assert in_place.dtype is ember.int64
    for x in (drawn.numpy(), in_place.numpy()):
        for j, q in enumerate(probs):
            _within(x[:, j].mean(), q, np.sqrt(q * (1 - q)), n=rows)
    float_p = ember.bernoulli(ember.zeros(N, dtype=ember.int64), 0.25).numpy()
    _within(float_p.mean(), 0.25, np.sqrt(0.25 * 0.75))


def _random_case(dtype, *args):
    x = _fill("random_", *args, dtype=dtype)
    assert (x == np.round(x)).all()
    return x


@pytest.mark.parametrize("dtype", FLOATS + ["float16", "int64", "int32", "int16", "int8", "uint8"])
def test_random_with_bounds(dtype):
    x = _random_case(dtype, 10)
    assert set(np.unique(x)) == set(range(10))
    _within(x.mean(), 4.5, np.sqrt(99 / 12))
    y = _random_case(dtype, -3 if dtype != "uint8" else 3, 7)
    assert y.min() == (-3 if dtype != "uint8" else 3) and y.max() == 6


@pytest.mark.parametrize("dtype, top", [("float32", 2 ** 24), ("float64", 2 ** 53), ("float16", 2 ** 11),
                                        ("int64", 2 ** 63 - 1), ("int32", 2 ** 31 - 1), ("int8", 127),
                                        ("uint8", 255), ("bool", 1)])
def test_random_without_upper_bound_spans_the_dtype(dtype, top):
    for args in ((), (0, None)):
        ember.manual_seed(0)
        x = ember.empty(N, dtype=getattr(ember, dtype)).random_(*args)
        values = x.numpy().astype(object if dtype == "int64" else np.float64)
        assert values.min() >= 0 and values.max() <= top
        _within(float(values.astype(np.float64).mean()) / top, 0.5, np.sqrt(1 / 12))
    y = ember.empty(100, dtype=getattr(ember, dtype)).random_(0 if dtype in ("bool", "uint8") else -1, None)
    assert y.numpy().astype(np.float64).min() >= (0 if dtype in ("bool", "uint8") else -1)


def test_random_keyword_bounds_and_precision_warning():
    ember.manual_seed(0)
    x = ember.empty(1000).random_(**{"from": 5, "to": 8})
    assert set(np.unique(x.numpy())) == {5.0, 6.0, 7.0}
    x = ember.empty(1000, dtype=ember.int64).random_(to=3)
    assert set(np.unique(x.numpy())) == {0, 1, 2}
    with pytest.warns(UserWarning, match="random_"):
        x = ember.empty(1000).random_(0, 2 ** 25 + 3)
    assert x.numpy().max() <= 2 ** 25 + 2


def test_multinomial_with_replacement_frequencies():
    weights = np.array([[1.0, 0.0, 3.0, 6.0], [0.0, 0.0, 0.0, 2.0]])
    ember.manual_seed(0)
    out = ember.multinomial(ember.tensor(weights), N, replacement=True)
    assert out.dtype is ember.int64 and tuple(out.shape) == (2, N)
    draws = out.numpy()
    for row, w in zip(draws, weights):
        p = w / w.sum()
        for k in range(4):
            _within((row == k).mean(), p[k], np.sqrt(p[k] * (1 - p[k])))
    assert (draws[1] == 3).all()


def test_multinomial_without_replacement():
    weights = ember.tensor([[1.0, 2.0, 0.0, 7.0]]).expand(N // 4, 4)
    ember.manual_seed(0)
    out = weights.multinomial(3).numpy()
    assert out.shape == (N // 4, 3)
    assert (np.sort(out, axis=1) == [0, 1, 3]).all()  # distinct, weight-0 category never needed
    for k, p in ((0, 0.1), (1, 0.2), (3, 0.7)):
        _within((out[:, 0] == k).mean(), p, np.sqrt(p * (1 - p)), n=N // 4)
    full = ember.multinomial(ember.tensor([1.0, 1.0, 0.0, 0.0]), 4).numpy()
    assert sorted(full) == [0, 1, 2, 3] and set(full[:2]) == {0, 1}
    assert ember.multinomial(ember.tensor([0.0, 5.0]), 1).tolist() == [1]
    assert tuple(ember.multinomial(ember.ones(0, 3), 2).shape) == (0, 2)


def test_normal_function():
    ember.manual_seed(0)
    mean = ember.tensor([[-1.0], [2.0]], dtype=ember.float64)
    std = ember.tensor([0.5, 1.0, 3.0], dtype=ember.float64)
    x = ember.normal(mean.expand(2, 3).repeat(N // 6, 1), std.repeat(N // 6 * 2, 1).reshape(-1, 3)[: N // 3])
    assert x.dtype is ember.float64
    x = x.numpy()
    for i in range(2):
        for j in range(3):
            col = x[i::2, j]
            _within(col.mean(), [-1.0, 2.0][i], [0.5, 1.0, 3.0][j], n=col.size)
    y = ember.normal(2.0, 0.5, (N,), dtype=ember.float64)
    assert y.dtype is ember.float64
    _within(y.numpy().mean(), 2.0, 0.5)


# ------------------------------------------------------------------ reproducibility

DRAWS = [
    lambda t, **g: t.uniform_(-1, 1, **g), lambda t, **g: t.normal_(0, 2, **g),
    lambda t, **g: t.exponential_(2.0, **g), lambda t, **g: t.geometric_(0.3, **g),
    lambda t, **g: t.log_normal_(0, 1, **g), lambda t, **g: t.cauchy_(0, 1, **g),
    lambda t, **g: t.bernoulli_(0.4, **g), lambda t, **g: t.random_(0, 100, **g),
    lambda t, **g: ember.bernoulli(ember.full(t.shape, 0.5), **g),
    lambda t, **g: ember.multinomial(ember.ones(t.shape), 5, **g),
]


@pytest.mark.parametrize("draw", range(len(DRAWS)))
def test_manual_seed_and_generator_make_draws_reproducible(draw):
    fn = DRAWS[draw]

    def run(seed=None, generator=None):
        if seed is not None:
            ember.manual_seed(seed)
        extra = {} if generator is None else {"generator": generator}
        return fn(ember.empty(64), **extra).numpy().copy()

    assert np.array_equal(run(5), run(5))
    assert not np.array_equal(run(5), run(6))
    assert np.array_equal(run(generator=np.random.default_rng(3)), run(generator=np.random.default_rng(3)))
    with pytest.raises(TypeError, match="generator"):
        run(generator=3)


# ------------------------------------------------------------------ autograd bookkeeping

IN_PLACE = ["uniform_()", "normal_()", "exponential_()", "geometric_(0.5)", "log_normal_()", "cauchy_()",
            "random_(0, 5)", "bernoulli_(0.5)"]


@pytest.mark.parametrize("call", IN_PLACE)
def test_in_place_draw_on_recorded_tensor(call):
    results = {}
    for lib in (ember, torch):
        leaf = lib.ones(4, requires_grad=True)
        y = leaf * 2
        before = y._version
        z = eval(f"y.{call}")  # noqa: S307 - a fixed table of method calls
        assert z is y and y._version > before
        y.sum().backward()
        # torch numbers bernoulli_'s node by the overload (BernoulliBackward1/2)
        name = type(y.grad_fn).__name__ if not call.startswith("bernoulli_") else "Bernoulli"
        results[lib.__name__] = (name, leaf.grad.tolist())
        with pytest.raises(RuntimeError, match="leaf Variable"):
            eval(f"leaf.{call}")  # noqa: S307
    assert results["ember"] == results["torch"]


def test_draws_from_probabilities_take_zero_gradients():
    for lib in (ember, torch):
        p = lib.full((3,), 0.5, requires_grad=True)
        out = lib.bernoulli(p)
        assert out.requires_grad
        out.sum().backward()
        assert p.grad.tolist() == [0.0, 0.0, 0.0]
        mean, std = lib.zeros(3, requires_grad=True), lib.ones(3, requires_grad=True)
        lib.normal(mean, std).sum().backward()
        assert mean.grad.tolist() == std.grad.tolist() == [0.0, 0.0, 0.0]


# ------------------------------------------------------------------ bad input

BAD = {
    "uniform_ from > to": lambda lib: lib.zeros(3).uniform_(2.0, 1.0),
    "uniform_ int": lambda lib: lib.zeros(3, dtype=lib.int64).uniform_(),
    "uniform_ infinite": lambda lib: lib.zeros(3).uniform_(0.0, float("inf")),
    "uniform_ nan": lambda lib: lib.zeros(3).uniform_(float("nan"), 1.0),
    "uniform_ half range": lambda lib: lib.zeros(3, dtype=lib.float16).uniform_(0.0, 1e5),
    "uniform_ span": lambda lib: lib.zeros(3, dtype=lib.float64).uniform_(-1e308, 1e308),
    "normal_ negative std": lambda lib: lib.zeros(3).normal_(0.0, -1.0),
    "normal_ nan std": lambda lib: lib.zeros(3).normal_(0.0, float("nan")),
    "normal_ int": lambda lib: lib.zeros(3, dtype=lib.int64).normal_(),
    "exponential_ zero": lambda lib: lib.zeros(3).exponential_(0.0),
    "exponential_ negative": lambda lib: lib.zeros(3).exponential_(-1.0),
    "exponential_ nan": lambda lib: lib.zeros(3).exponential_(float("nan")),
    "exponential_ int": lambda lib: lib.zeros(3, dtype=lib.int64).exponential_(),
    "geometric_ zero": lambda lib: lib.zeros(3).geometric_(0.0),
    "geometric_ one": lambda lib: lib.zeros(3).geometric_(1.0),
    "geometric_ above": lambda lib: lib.zeros(3).geometric_(1.5),
    "geometric_ bool": lambda lib: lib.zeros(3, dtype=lib.bool).geometric_(0.5),
    "log_normal_ zero std": lambda lib: lib.zeros(3).log_normal_(1.0, 0.0),
    "log_normal_ int": lambda lib: lib.zeros(3, dtype=lib.int64).log_normal_(),
    "cauchy_ zero sigma": lambda lib: lib.zeros(3).cauchy_(0.0, 0.0),
    "cauchy_ negative sigma": lambda lib: lib.zeros(3).cauchy_(0.0, -1.0),
    "cauchy_ int": lambda lib: lib.zeros(3, dtype=lib.int64).cauchy_(),
    "bernoulli_ above one": lambda lib: lib.zeros(3).bernoulli_(1.5),
    "bernoulli_ negative": lambda lib: lib.zeros(3).bernoulli_(-0.5),
    "bernoulli_ nan": lambda lib: lib.zeros(3).bernoulli_(float("nan")),
    "bernoulli_ tensor out of range": lambda lib: lib.zeros(3).bernoulli_(lib.tensor([0.0, 1.0, 1.5])),
    "bernoulli_ int tensor p": lambda lib: lib.zeros(3).bernoulli_(lib.tensor([0, 1, 1])),
    "bernoulli_ p shape": lambda lib: lib.zeros(3).bernoulli_(lib.full((2, 3), 0.5)),
    "bernoulli out of range": lambda lib: lib.bernoulli(lib.tensor([0.5, 1.5])),
    "bernoulli nan": lambda lib: lib.bernoulli(lib.tensor([float("nan")])),
    "bernoulli int": lambda lib: lib.bernoulli(lib.ones(3, dtype=lib.int64)),
    "bernoulli number p": lambda lib: lib.bernoulli(lib.ones(3), 1.3),
    "random_ from == to": lambda lib: lib.zeros(3).random_(5, 5),
    "random_ from > to": lambda lib: lib.zeros(3).random_(5, 3),
    "random_ zero": lambda lib: lib.zeros(3).random_(0),
    "random_ negative to": lambda lib: lib.zeros(3).random_(-5),
    "random_ uint8 negative": lambda lib: lib.zeros(3, dtype=lib.uint8).random_(-1, 5),
    "random_ int8 too high": lambda lib: lib.zeros(3, dtype=lib.int8).random_(0, 200),
    "random_ bool range": lambda lib: lib.zeros(3, dtype=lib.bool).random_(0, 3),
    "random_ int16 from": lambda lib: lib.zeros(3, dtype=lib.int16).random_(-40000, 0),
    "random_ half to": lambda lib: lib.zeros(3, dtype=lib.float16).random_(0, 100000),
    "random_ float bounds": lambda lib: lib.zeros(3).random_(1.5, 3.5),
    "random_ huge": lambda lib: lib.zeros(3).random_(0, 2 ** 64),
    "multinomial negative": lambda lib: lib.multinomial(lib.tensor([1.0, -1.0]), 1),
    "multinomial inf": lambda lib: lib.multinomial(lib.tensor([1.0, float("inf")]), 1),
    "multinomial nan": lambda lib: lib.multinomial(lib.tensor([1.0, float("nan")]), 1),
    "multinomial zero row": lambda lib: lib.multinomial(lib.tensor([[0.0, 0.0], [1.0, 1.0]]), 1),
    "multinomial replacement negative": lambda lib: lib.multinomial(lib.tensor([[1.0, -1], [1, 1]]), 3, True),
    "multinomial replacement inf": lambda lib: lib.multinomial(lib.tensor([1.0, float("inf")]), 3, True),
    "multinomial replacement zero row": lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 3, True),
    "multinomial too many": lambda lib: lib.multinomial(lib.tensor([1.0, 2.0]), 3),
    "multinomial zero samples": lambda lib: lib.multinomial(lib.tensor([1.0, 2.0]), 0),
    "multinomial 3-D": lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1),
    "multinomial 0-D": lambda lib: lib.multinomial(lib.tensor(1.0), 1),
    "multinomial int": lambda lib: lib.multinomial(lib.ones(3, dtype=lib.int64), 1),
    "multinomial float count": lambda lib: lib.multinomial(lib.ones(3), 1.5),
    "multinomial empty": lambda lib: lib.multinomial(lib.ones(0), 1),
    "normal negative std tensor": lambda lib: lib.normal(lib.zeros(3), lib.tensor([1.0, -1.0, 1.0])),
    "normal negative std": lambda lib: lib.normal(lib.zeros(3), -1.0),
    "normal shapes": lambda lib: lib.normal(lib.zeros(3), lib.ones(2)),
    "normal int mean": lambda lib: lib.normal(lib.zeros(3, dtype=lib.int64), 1.0),
    "normal numbers negative std": lambda lib: lib.normal(0.0, -1.0, (2,)),
    "exponential_ expanded": lambda lib: lib.zeros(1, 3).expand(2, 3).exponential_(),
    "random_ expanded": lambda lib: lib.zeros(1, 3).expand(2, 3).random_(),
}


# where torch's message comes from an internal step (``expand``), ember's names the argument
OWN_WORDS = {"bernoulli_ p shape"}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_as_torch_does(name):
    ours, theirs = same_outcome(BAD[name], raises=True, match=".")
    if isinstance(theirs.error, RuntimeError) and name not in OWN_WORDS:
        # the words before any number agree
        assert ours.message.split("=")[0][:30] == theirs.message.split("=")[0][:30]
