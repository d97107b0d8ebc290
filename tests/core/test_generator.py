"""``ember.Generator``, ``ember.default_generator`` and the ``generator=`` arguments,
compared with torch where the behaviour does not depend on the bit stream (seeds,
errors, warnings), and checked for reproducibility where it does."""

import copy
import pickle
import warnings

import numpy as np
import pytest

import ember
from ember.utils import checkpoint as echeckpoint
from ember.utils import data as edata

torch = pytest.importorskip("torch")


def _values(t):
    return t.detach().numpy().copy()


# ---------------------------------------------------------------- seeds
def test_a_fresh_generator_is_torchs():
    e, t = ember.Generator(), torch.Generator()
    assert e.initial_seed() == t.initial_seed() == 67280421310721
    assert str(e.device) == str(t.device) == "cpu"
    assert ember.Generator(device=ember.device("cpu")).device == ember.device("cpu")


@pytest.mark.parametrize("seed", [0, 7, -1, -5, -2**63, 2**63, 2**64 - 1])
def test_manual_seed_stores_the_seed_as_torch(seed):
    e, t = ember.Generator(), torch.Generator()
    assert e.manual_seed(seed) is e
    assert t.manual_seed(seed) is t
    assert e.initial_seed() == t.initial_seed()


@pytest.mark.parametrize("seed,error", [(2**64, ValueError), (-2**63 - 1, ValueError), (1.5, RuntimeError),
                                        (True, RuntimeError), ("3", RuntimeError), (None, RuntimeError)])
def test_generator_manual_seed_refuses_what_torch_refuses(seed, error):
    with pytest.raises(error):
        torch.Generator().manual_seed(seed)
    g = ember.Generator().manual_seed(11)
    with pytest.raises(error, match="manual_seed"):
        g.manual_seed(seed)
    assert g.initial_seed() == 11  # untouched


def test_generator_manual_seed_takes_a_tensor_like_torch_does_not():
    with pytest.raises(RuntimeError):
        torch.Generator().manual_seed(torch.tensor(3))
    with pytest.raises(RuntimeError, match="expected a long, but got Tensor"):
        ember.Generator().manual_seed(ember.tensor(3))


@pytest.mark.parametrize("seed", [3, -1, "12", 2.9, np.int64(4)])
def test_global_manual_seed_converts_with_int_and_returns_the_default_generator(seed):
    t = torch.manual_seed(seed)
    e = ember.manual_seed(seed)
    assert t is torch.default_generator and e is ember.default_generator
    assert ember.initial_seed() == torch.initial_seed() == e.initial_seed()


def test_global_manual_seed_out_of_range_raises_as_torch():
    before = ember.initial_seed()
    with pytest.raises(ValueError):
        torch.manual_seed(2**64)
    with pytest.raises(ValueError):
        ember.manual_seed(2**64)
    assert ember.initial_seed() == before


def test_seed_draws_a_fresh_64_bit_seed():
    g = ember.Generator()
    a, b = g.seed(), g.seed()
    assert a != b and 0 <= b < 2**64 and g.initial_seed() == b
    s = ember.seed()
    assert ember.initial_seed() == s == ember.default_generator.initial_seed()


# ---------------------------------------------------------------- streams
DRAWS = {
    "rand": lambda g: ember.rand(5, generator=g),
    "randn": lambda g: ember.randn(2, 3, generator=g, dtype=ember.float64),
    "randint": lambda g: ember.randint(0, 100, (6,), generator=g),
    "randint_high": lambda g: ember.randint(9, (6,), generator=g),
    "randperm": lambda g: ember.randperm(10, generator=g),
    "rand_like": lambda g: ember.rand_like(ember.zeros(4), generator=g),
    "randn_like": lambda g: ember.randn_like(ember.zeros(4), generator=g),
    "randint_like": lambda g: ember.randint_like(ember.zeros(4), 7, generator=g),
    "normal_numbers": lambda g: ember.normal(2.0, 3.0, (4,), generator=g),
    "normal_tensor": lambda g: ember.normal(ember.zeros(4), ember.ones(4), generator=g),
    "bernoulli": lambda g: ember.bernoulli(ember.full((8,), 0.5), generator=g),
    "multinomial": lambda g: ember.multinomial(ember.ones(5), 3, generator=g),
    "multinomial_replacement": lambda g: ember.multinomial(ember.ones(2, 5), 4, True, generator=g),
    "uniform_": lambda g: ember.empty(5).uniform_(-1, 1, generator=g),
    "normal_": lambda g: ember.empty(5).normal_(generator=g),
    "random_": lambda g: ember.empty(5).random_(0, 50, generator=g),
    "bernoulli_": lambda g: ember.empty(5).bernoulli_(0.3, generator=g),
    "exponential_": lambda g: ember.empty(5).exponential_(generator=g),
    "geometric_": lambda g: ember.empty(5).geometric_(0.3, generator=g),
    "log_normal_": lambda g: ember.empty(5).log_normal_(generator=g),
    "cauchy_": lambda g: ember.empty(5).cauchy_(generator=g),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_a_seeded_generator_repeats_its_stream_untouched_by_the_global_one(name):
    draw = DRAWS[name]
    first = [_values(draw(ember.Generator().manual_seed(5))) for _ in range(2)]
    g = ember.Generator().manual_seed(5)
    a = _values(draw(g))
    ember.rand(10)  # the global generator moves; g does not
    b = _values(draw(g))
    np.testing.assert_array_equal(first[0], first[1])
    np.testing.assert_array_equal(first[0], a)
    assert not np.array_equal(a, b) or name.startswith(("bernoulli", "multinomial"))
    ember.manual_seed(0)
    global_draw = _values(draw(None))
    ember.manual_seed(0)
    np.testing.assert_array_equal(global_draw, _values(draw(None)))


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_set_state_replays_the_draws_after_get_state(name):
    draw = DRAWS[name]
    g = ember.Generator().manual_seed(9)
    draw(g)
    state = g.get_state()
    after = _values(draw(g))
    g.manual_seed(1)
    assert g.set_state(state) is g
    np.testing.assert_array_equal(_values(draw(g)), after)
    assert g.initial_seed() == 9  # the state carries the seed, as torch's does


def test_the_state_is_a_uint8_tensor_as_torchs():
    e, t = ember.Generator().get_state(), torch.Generator().get_state()
    assert str(e.dtype) == "ember.uint8" and str(t.dtype) == "torch.uint8"
    assert e.dim() == t.dim() == 1


def test_global_rng_state_replays_and_is_the_default_generators():
    ember.manual_seed(3)
    state = ember.get_rng_state()
    np.testing.assert_array_equal(state.numpy(), ember.default_generator.get_state().numpy())
    a = _values(ember.randn(6))
    ember.manual_seed(4)
    ember.set_rng_state(state)
    np.testing.assert_array_equal(_values(ember.randn(6)), a)
    assert ember.initial_seed() == 3
    ember.default_generator.set_state(state)
    np.testing.assert_array_equal(_values(ember.randn(6)), a)


def test_default_generator_draws_as_the_global_functions():
    ember.default_generator.manual_seed(21)
    assert ember.initial_seed() == 21
    a = _values(ember.rand(4))
    ember.manual_seed(21)
    np.testing.assert_array_equal(_values(ember.rand(4, generator=ember.default_generator)), a)


def test_initial_seed_after_set_state_is_the_states_as_torch():
    for lib in (torch, ember):
        lib.manual_seed(5)
        state = lib.get_rng_state()
        lib.manual_seed(7)
        lib.set_rng_state(state)
        assert lib.initial_seed() == 5


@pytest.mark.parametrize("make", [lambda lib: [1, 2], lambda lib: lib.zeros(10),
                                  lambda lib: lib.zeros(10, dtype=lib.int64)])
def test_set_state_refuses_a_non_byte_tensor_with_torchs_type(make):
    with pytest.raises(TypeError):
        torch.Generator().set_state(make(torch))
    with pytest.raises(TypeError, match="ByteTensor"):
        ember.Generator().set_state(make(ember))
    with pytest.raises(TypeError, match="ByteTensor"):
        ember.set_rng_state(make(ember))


def test_set_state_refuses_foreign_or_damaged_bytes_with_torchs_type():
    with pytest.raises(RuntimeError):
        torch.Generator().set_state(torch.zeros(10, dtype=torch.uint8))
    g = ember.Generator()
    before = g.get_state()
    with pytest.raises(RuntimeError, match="not a state from ember's"):
        g.set_state(ember.zeros(10, dtype=ember.uint8))
    with pytest.raises(RuntimeError, match="not a state from ember's"):
        g.set_state(ember.tensor(torch.get_rng_state().numpy()))
    with pytest.raises(RuntimeError, match="damaged"):
        g.set_state(before[:-5])
    np.testing.assert_array_equal(g.get_state().numpy(), before.numpy())


def test_pickle_deepcopy_and_clone_state_keep_the_stream():
    g = ember.Generator().manual_seed(13)
    ember.rand(3, generator=g)
    copies = [pickle.loads(pickle.dumps(g)), copy.deepcopy(g), g.clone_state()]
    expected = _values(ember.rand(4, generator=g))
    for c in copies:
        assert c is not g and c.initial_seed() == 13
        np.testing.assert_array_equal(_values(ember.rand(4, generator=c)), expected)


def test_numpy_generators_are_still_taken():
    a = _values(ember.rand(3, generator=np.random.default_rng(2)))
    np.testing.assert_array_equal(a, _values(ember.empty(3).uniform_(generator=np.random.default_rng(2))))


@pytest.mark.parametrize("call", [lambda lib: lib.rand(2, generator=3),
                                  lambda lib: lib.randperm(4, generator="g"),
                                  lambda lib: lib.randn(2, generator=object())])
def test_a_generator_that_is_not_one_raises_type_error_as_torch(call):
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError, match="generator must be an ember.Generator"):
        call(ember)


@pytest.mark.parametrize("device", ["xyz", 3])
def test_generator_on_an_unknown_or_missing_device_raises_as_torch(device):
    with pytest.raises(RuntimeError):
        torch.Generator(device)
    with pytest.raises(RuntimeError):
        ember.Generator(device)


# ---------------------------------------------------------------- data and checkpoint
def test_samplers_and_random_split_take_an_ember_generator():
    def orders():
        g = ember.Generator().manual_seed(4)
        return (list(edata.RandomSampler(range(9), generator=g)),
                list(edata.SubsetRandomSampler([5, 6, 7, 8], generator=g)),
                list(edata.WeightedRandomSampler([0.1, 0.5, 0.4], 6, generator=g)),
                [list(s.indices) for s in edata.random_split(range(10), [3, 7], generator=g)],
                [b.tolist() for b in edata.DataLoader(range(8), batch_size=3, shuffle=True, generator=g)])

    first = orders()
    ember.rand(5)
    assert orders() == first
    assert sorted(first[0]) == list(range(9))


def test_samplers_without_a_generator_follow_manual_seed():
    ember.manual_seed(8)
    a = list(edata.RandomSampler(range(20)))
    ember.manual_seed(8)
    assert list(edata.RandomSampler(range(20))) == a


def test_checkpoint_recomputes_dropout_from_the_state_it_saved():
    ember.manual_seed(0)
    x = ember.randn(50, dtype=ember.float64, requires_grad=True)
    out = echeckpoint.checkpoint(lambda v: ember.nn.functional.dropout(v, 0.5, training=True) * 2, x)
    mask = _values(out) != 0
    state = ember.get_rng_state()
    out.sum().backward()  # the recomputation replays the forward's draws ...
    np.testing.assert_array_equal(_values(x.grad) != 0, mask)
    np.testing.assert_array_equal(ember.get_rng_state().numpy(), state.numpy())  # ... and puts the state back


# ---------------------------------------------------------------- DataLoader(pin_memory=True)
def test_pin_memory_without_an_accelerator_warns_and_does_not_pin_as_torch():
    if torch.accelerator.is_available() or ember.cuda.is_available():
        pytest.skip("a machine with an accelerator pins")
    results = {}
    for lib, data in ((torch, torch.utils.data), (ember, edata)):
        ds = data.TensorDataset(lib.arange(6.).reshape(3, 2), lib.arange(3))
        loader = data.DataLoader(ds, batch_size=2, pin_memory=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            it = iter(loader)
        batches = list(it)
        results[lib.__name__] = ([w.category for w in caught], [b[0].is_pinned() for b in batches],
                                 [b[0].tolist() for b in batches])
        assert "no accelerator" in str(caught[0].message)
    assert results["torch"] == results["ember"]


def test_pinned_batches_keep_their_structure():
    from ember.utils.data.dataloader import _pinned

    Pair = __import__("collections").namedtuple("Pair", "x y")
    batch = {"a": [ember.ones(2)], "b": Pair(ember.zeros(1), 3), "c": "text"}
    pinned = _pinned(batch)
    assert isinstance(pinned["b"], Pair) and pinned["b"].y == 3 and pinned["c"] == "text"
    assert pinned["a"][0].tolist() == [1.0, 1.0]
    assert pinned["a"][0].is_pinned() == pinned["b"].x.is_pinned()


# ---------------------------------------------------------------- nn.init
@pytest.mark.parametrize("name,args", [
    ("uniform_", (-1, 1)), ("normal_", (0, 2)), ("trunc_normal_", ()), ("xavier_uniform_", ()),
    ("xavier_normal_", ()), ("kaiming_uniform_", ()), ("kaiming_normal_", ()), ("orthogonal_", ()),
    ("sparse_", (0.5,)),
])
def test_init_functions_draw_from_the_generator_given(name, args):
    init = getattr(ember.nn.init, name)

    def filled():
        return _values(init(ember.empty(6, 4), *args, generator=ember.Generator().manual_seed(3)))

    first = filled()
    ember.rand(7)
    np.testing.assert_array_equal(filled(), first)
    assert not np.array_equal(_values(init(ember.empty(6, 4), *args)), first)
    with pytest.raises(TypeError):
        getattr(torch.nn.init, name)(torch.empty(6, 4), *args, generator=3)
    with pytest.raises(TypeError, match="generator must be an ember.Generator"):
        init(ember.empty(6, 4), *args, generator=3)
