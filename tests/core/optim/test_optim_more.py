"""The rest of PyTorch 1.0's optimizers (Adadelta, Adamax, ASGD, Rprop, LBFGS, SparseAdam)
and sparse gradients in SGD/Adagrad, against torch: float64 trajectories equal to 1e-10."""

import copy
import pickle

import numpy as np
import pytest

import ember

from .test_optim import assert_params_equal, make_pair, run_side_by_side

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")

STEPS = 20
TOL = dict(rtol=1e-10, atol=1e-10)

CONFIGS = [
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5)),
    ("Adadelta", dict(weight_decay=0.1)),
    ("Adadelta", dict(weight_decay=0.05, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adamax", dict(lr=0.01, betas=(0.3, 0.9))),  # lerp weight >= 0.5: torch's other formula
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, weight_decay=0.05, maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, t0=5)),  # averaging starts during the run
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=3, weight_decay=0.1)),
    ("ASGD", dict(lr=0.02, t0=2, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", dict(lr=0.02, maximize=True)),
]
IDS = [f"{n}-{kw}" for n, kw in CONFIGS]


def state_arrays(state):
    """A parameter's state with tensors as arrays (torch or ember alike)."""
    out = {}
    for key, value in state.items():
        if hasattr(value, "detach"):
            value = value.detach()
            value = (value.to_dense() if value.is_sparse else value).cpu().numpy()
        out[key] = value
    return out


def assert_states_equal(e_opt, t_opt, e_params, t_params):
    for i, (e, t) in enumerate(zip(e_params, t_params)):
        es, ts = state_arrays(e_opt.state[e]), state_arrays(t_opt.state[t])
        assert sorted(es) == sorted(ts), f"state keys of parameter {i}"
        for key in ts:
            np.testing.assert_allclose(np.asarray(es[key], dtype=float),
                                       np.asarray(ts[key], dtype=float), **TOL,
                                       err_msg=f"state {key!r} of parameter {i}")


# ---------------------------------------------------------------- dense trajectories
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_same_trajectory_as_torch(name, kwargs, device):
    e_params, t_params = make_pair(device=device)
    e_opt = getattr(ember.optim, name)(e_params, **kwargs)
    t_opt = getattr(torch.optim, name)(t_params, foreach=False, **kwargs)
    run_side_by_side(e_opt, t_opt, e_params, t_params, steps=STEPS)
    assert_states_equal(e_opt, t_opt, e_params, t_params)
    assert e_opt.param_groups[0].keys() == t_opt.param_groups[0].keys()


def rosenbrock(xy, lib):
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2 + (xy * xy).sum() * 0.01


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_rosenbrock_gradients_from_each_library(name, kwargs):
    """Gradients come from each library's own autograd at its own iterate."""
    e = ember.nn.Parameter(ember.tensor([-1.2, 1.0], dtype=ember.float64))
    t = torch.nn.Parameter(torch.tensor([-1.2, 1.0], dtype=torch.float64))
    e_opt = getattr(ember.optim, name)([e], **kwargs)
    t_opt = getattr(torch.optim, name)([t], **kwargs)
    for step in range(STEPS):
        for p, opt, lib in ((e, e_opt, ember), (t, t_opt, torch)):
            opt.zero_grad()
            rosenbrock(p, lib).backward()
            opt.step()
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), **TOL,
                                   err_msg=f"step {step}")


def test_rprop_zero_and_sign_flipping_gradients(device):
    e_params, t_params = make_pair(device=device)
    e_opt = ember.optim.Rprop(e_params, lr=0.03)
    t_opt = torch.optim.Rprop(t_params, lr=0.03)
    rng = np.random.default_rng(5)
    for step in range(STEPS):
        for e, t in zip(e_params, t_params):
            g = rng.standard_normal(tuple(e.shape)) * (rng.random(tuple(e.shape)) > 0.3)
            e.grad, t.grad = ember.tensor(g, device=device), torch.from_numpy(g.copy())
        e_opt.step()
        t_opt.step()
        assert_params_equal(e_params, t_params, f"step {step}:")
    assert_states_equal(e_opt, t_opt, e_params, t_params)


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "ASGD", "Rprop"])
def test_param_groups_and_missing_grads(name, device):
    e_params, t_params = make_pair(device=device)

    def groups(params):
        return [{"params": params[:2]}, {"params": [params[2]], "lr": 0.003}]

    e_opt = getattr(ember.optim, name)(groups(e_params), lr=0.02)
    t_opt = getattr(torch.optim, name)(groups(t_params), lr=0.02)
    run_side_by_side(e_opt, t_opt, e_params, t_params, skip=1)
    assert not e_opt.state[e_params[1]]


@pytest.mark.parametrize("name, kwargs", CONFIGS[::2], ids=IDS[::2])
def test_state_dict_round_trip_continues_identically(name, kwargs):
    e_params, t_params = make_pair()
    e_opt = getattr(ember.optim, name)(e_params, **kwargs)
    t_opt = getattr(torch.optim, name)(t_params, **kwargs)
    run_side_by_side(e_opt, t_opt, e_params, t_params, steps=10, seed=1)
    before = {i: state_arrays(e_opt.state[p]) for i, p in enumerate(e_params)}
    saved = pickle.loads(pickle.dumps(e_opt.state_dict()))
    # a fresh optimizer on copies of the parameters resumes from the saved state
    resumed = [ember.nn.Parameter(p.detach().clone()) for p in e_params]
    e_new = getattr(ember.optim, name)(resumed, **kwargs)
    e_new.load_state_dict(e_opt.state_dict())
    assert e_new.state_dict()["param_groups"] == saved["param_groups"]
    # torch resumes the same way (its load casts eta and mu of ASGD to the parameter dtype)
    t_new = getattr(torch.optim, name)(t_params, **kwargs)
    t_new.load_state_dict(t_opt.state_dict())
    run_side_by_side(e_new, t_new, resumed, t_params, steps=10, seed=2)
    # the loaded state is a copy: the source optimizer's state did not move
    for i, p in enumerate(e_params):
        for key, value in state_arrays(e_opt.state[p]).items():
            np.testing.assert_array_equal(np.asarray(value), np.asarray(before[i][key]))


def test_state_dict_matches_torch_layout():
    e_params, t_params = make_pair()
    e_opt = ember.optim.ASGD(e_params, lr=0.05, t0=3)
    t_opt = torch.optim.ASGD(t_params, lr=0.05, t0=3)
    run_side_by_side(e_opt, t_opt, e_params, t_params, steps=6)
    e_sd, t_sd = e_opt.state_dict(), t_opt.state_dict()
    assert e_sd["param_groups"] == t_sd["param_groups"]
    for k in t_sd["state"]:
        for key, value in t_sd["state"][k].items():
            mine = e_sd["state"][k][key]
            assert str(mine.dtype).split(".")[-1] == str(value.dtype).split(".")[-1], key
            np.testing.assert_allclose(mine.numpy(), value.numpy(), **TOL)


# ---------------------------------------------------------------- LBFGS
# L-BFGS amplifies rounding: torch adds with ``alpha`` by a fused multiply-add and takes
# dot products with MKL, so on ill-conditioned objectives (a neural net, Rosenbrock
# without line search) ulp-level differences grow over hundreds of iterations. The
# objectives below are well-conditioned (or use the line search), so agreement to
# 1e-10 checks the algorithm itself.
LBFGS_CONFIGS = [dict(), dict(max_iter=5, history_size=3), dict(lr=0.5, max_iter=4),
                 dict(max_iter=7, max_eval=9, history_size=2)]


def lbfgs_pair(line_search_fn, **kwargs):
    """A convex log-cosh regression in each library, its gradients from each autograd."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    init = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    sides = []
    for lib in (ember, torch):
        params = [lib.nn.Parameter(lib.tensor(v.copy(), dtype=lib.float64)) for v in init]
        X, Y = lib.tensor(x), lib.tensor(y)
        opt = lib.optim.LBFGS(params, line_search_fn=line_search_fn, **kwargs)
        calls = []

        def closure(params=params, X=X, Y=Y, calls=calls, lib=lib):
            calls.append(1)
            for p in params:
                p.grad = None
            w, b = params
            loss = lib.log(lib.cosh(X @ w + b - Y)).mean() + 0.05 * (w * w).sum()
            loss.backward()
            return loss

        sides.append((params, opt, closure, calls))
    return sides


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("kwargs", LBFGS_CONFIGS, ids=str)
def test_lbfgs_same_trajectory(line_search_fn, kwargs):
    (e_params, e_opt, e_closure, e_calls), (t_params, t_opt, t_closure, t_calls) = \
        lbfgs_pair(line_search_fn, **kwargs)
    for step in range(STEPS):
        e_loss, t_loss = e_opt.step(e_closure), t_opt.step(t_closure)
        assert abs(e_loss.item() - t_loss.item()) <= 1e-10 * max(1.0, abs(t_loss.item()))
        assert_params_equal(e_params, t_params, f"step {step}:")
        assert len(e_calls) == len(t_calls), "closure evaluations"
    e_state, t_state = e_opt.state[e_params[0]], t_opt.state[t_params[0]]
    assert sorted(e_state) == sorted(t_state)
    assert (e_state["func_evals"], e_state["n_iter"]) == (t_state["func_evals"], t_state["n_iter"])
    assert len(e_state["old_dirs"]) == len(t_state["old_dirs"])
    np.testing.assert_allclose(e_state["d"].numpy(), t_state["d"].numpy(), **TOL)
    np.testing.assert_allclose(float(e_state["H_diag"]), float(t_state["H_diag"]), **TOL)


def log_cosh_objective(x):
    rng = np.random.default_rng(1)
    A, b = rng.standard_normal((12, 6)), rng.standard_normal(12)
    r = A @ x - b
    return np.sum(np.log(np.cosh(r))) + 0.05 * x @ x, A.T @ np.tanh(r) + 0.1 * x


def rosenbrock_objective(x):
    a, b = x[:-1], x[1:]
    grad = np.zeros_like(x)
    grad[:-1] = -400 * a * (b - a * a) - 2 * (1 - a)
    grad[1:] += 200 * (b - a * a)
    return np.sum(100 * (b - a * a) ** 2 + (1 - a) ** 2), grad


@pytest.mark.parametrize("objective, line_search_fn, kwargs", [
    (log_cosh_objective, None, LBFGS_CONFIGS[1]), (log_cosh_objective, None, LBFGS_CONFIGS[2]),
    (log_cosh_objective, None, LBFGS_CONFIGS[3]),
    *[(log_cosh_objective, "strong_wolfe", kw) for kw in LBFGS_CONFIGS],
    (rosenbrock_objective, "strong_wolfe", LBFGS_CONFIGS[0]),
    (rosenbrock_objective, "strong_wolfe", LBFGS_CONFIGS[1]),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_lbfgs_same_trajectory_on_identical_gradients(objective, line_search_fn, kwargs):
    """The objective and its gradient are computed once in NumPy for both optimizers,
    so only the optimizers' own arithmetic can differ; many iterations per step."""
    sides = []
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.tensor(np.linspace(-1.2, 1.0, 6), dtype=lib.float64))

        def closure(p=p, lib=lib):
            value, grad = objective(p.detach().numpy().copy())
            p.grad = lib.tensor(grad, dtype=lib.float64)
            return lib.tensor(value, dtype=lib.float64)

        sides.append((p, lib.optim.LBFGS([p], line_search_fn=line_search_fn, **kwargs), closure))
    (e, e_opt, e_closure), (t, t_opt, t_closure) = sides
    for step in range(STEPS):
        e_opt.step(e_closure)
        t_opt.step(t_closure)
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), **TOL,
                                   err_msg=f"step {step}")
    assert e_opt.state[e]["func_evals"] == t_opt.state[t]["func_evals"]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_state_dict_round_trip(line_search_fn):
    (e_params, e_opt, e_closure, _), (t_params, t_opt, t_closure, _) = \
        lbfgs_pair(line_search_fn, max_iter=3, history_size=4)
    for _ in range(3):
        e_opt.step(e_closure)
        t_opt.step(t_closure)
    saved = pickle.loads(pickle.dumps(e_opt.state_dict()))
    assert sorted(saved["state"][0]) == sorted(t_opt.state_dict()["state"][0])
    fresh = ember.optim.LBFGS(e_params, line_search_fn=line_search_fn, max_iter=3, history_size=4)
    fresh.load_state_dict(saved)
    for step in range(3):
        fresh.step(e_closure)
        t_opt.step(t_closure)
        assert_params_equal(e_params, t_params, f"resumed step {step}:")


def test_lbfgs_stops_at_an_optimum_and_takes_sparse_gradients():
    p = ember.nn.Parameter(ember.zeros(3, dtype=ember.float64))
    opt = ember.optim.LBFGS([p])
    calls = []

    def closure():
        calls.append(1)
        p.grad = ember.zeros(3, dtype=ember.float64)
        return ember.tensor(0.0)

    opt.step(closure)
    assert len(calls) == 1 and opt.state[p]["n_iter"] == 0

    emb = ember.nn.Embedding(5, 2, sparse=True).double()
    t_emb = torch.nn.Embedding(5, 2, sparse=True).double()
    with torch.no_grad():
        t_emb.weight.copy_(torch.from_numpy(emb.weight.detach().numpy().copy()))
    idx = [3, 1, 3, 0]
    for m, lib in ((emb, ember), (t_emb, torch)):
        o = lib.optim.LBFGS(m.parameters(), max_iter=5)

        def closure(m=m, o=o, lib=lib):
            o.zero_grad()
            loss = ((m(lib.tensor(idx)) - 1.0) ** 2).sum()
            loss.backward()
            return loss

        o.step(closure)
    np.testing.assert_allclose(emb.weight.detach().numpy(), t_emb.weight.detach().numpy(), **TOL)


def test_lbfgs_refuses_groups_and_other_line_searches():
    a, b = ember.nn.Parameter(ember.ones(2)), ember.nn.Parameter(ember.ones(2))
    message = "LBFGS doesn't support per-parameter options"
    with pytest.raises(ValueError, match=message):
        torch.optim.LBFGS([{"params": [torch.ones(2, requires_grad=True)]},
                           {"params": [torch.ones(2, requires_grad=True)]}])
    with pytest.raises(ValueError, match=message):
        ember.optim.LBFGS([{"params": [a]}, {"params": [b]}])
    opt = ember.optim.LBFGS([a], line_search_fn="backtracking")
    with pytest.raises(ValueError, match=message):
        opt.add_param_group({"params": [b]})

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        ember.optim.LBFGS([a], lr=-1)


def test_lbfgs_default_max_eval():
    p = ember.nn.Parameter(ember.ones(2))
    assert ember.optim.LBFGS([p]).param_groups[0]["max_eval"] == 25
    assert ember.optim.LBFGS([p], max_iter=7).param_groups[0]["max_eval"] == 8


# ---------------------------------------------------------------- sparse gradients
def embedding_pair(kind, seed=0, device="cpu"):
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((10, 3))
    mods = []
    for lib in (ember, torch):
        if kind == "Embedding":
            m = lib.nn.Embedding(10, 3, sparse=True, padding_idx=2)
        else:
            m = lib.nn.EmbeddingBag(10, 3, sparse=True, mode="mean")
        m = m.double().to(device if lib is ember else "cpu")
        with lib.no_grad():
            m.weight.copy_(lib.tensor(weight))
        mods.append(m)
    return mods


def sparse_step(m, lib, idx, target):
    """A loss of module ``m`` of ``lib``, its inputs put where ``m``'s weight is."""
    on = dict(device=m.weight.device)
    if isinstance(m, lib.nn.EmbeddingBag):
        out = m(lib.tensor(idx.reshape(-1), **on), lib.tensor([0, 3, 3, 7], **on))
    else:
        out = m(lib.tensor(idx, **on))
    return ((out - lib.tensor(target[:out.numel()].reshape(tuple(out.shape)), **on)) ** 2).sum()


REPEATS = np.array([[1, 1, 2, 1], [2, 2, 1, 1]])

SPARSE_CONFIGS = [
    ("SparseAdam", dict(lr=0.05)),
    ("SparseAdam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, maximize=True)),
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.2, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
]


@pytest.mark.parametrize("kind", ["Embedding", "EmbeddingBag"])
@pytest.mark.parametrize("name, kwargs", SPARSE_CONFIGS,
                         ids=[f"{n}-{kw}" for n, kw in SPARSE_CONFIGS])
def test_sparse_embedding_trajectories(kind, name, kwargs, device):
    e_mod, t_mod = embedding_pair(kind, device=device)
    e_opt = getattr(ember.optim, name)(e_mod.parameters(), **kwargs)
    t_opt = getattr(torch.optim, name)(t_mod.parameters(), **kwargs)
    rng = np.random.default_rng(3)
    for step in range(STEPS):
        # every fifth step, many repeats of few rows (and the padding row)
        idx = rng.integers(0, 10, size=(2, 4)) if step % 5 else REPEATS
        target = rng.standard_normal(24)
        for m, opt, lib in ((e_mod, e_opt, ember), (t_mod, t_opt, torch)):
            opt.zero_grad()
            sparse_step(m, lib, idx, target).backward()
        e_grad, t_grad = e_mod.weight.grad, t_mod.weight.grad
        assert e_grad.is_sparse and t_grad.is_sparse
        np.testing.assert_allclose(e_grad.to_dense().cpu().numpy(), t_grad.to_dense().numpy(), **TOL)
        e_opt.step()
        t_opt.step()
        np.testing.assert_allclose(e_mod.weight.detach().cpu().numpy(), t_mod.weight.detach().numpy(),
                                   **TOL, err_msg=f"step {step}")
    assert_states_equal(e_opt, t_opt, [e_mod.weight], [t_mod.weight])


@pytest.mark.parametrize("name, kwargs", [("SparseAdam", dict(lr=0.05)),
                                          ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                          ("Adagrad", dict(lr=0.1, lr_decay=0.01))])
def test_sparse_state_dict_round_trip(name, kwargs):
    e_mod, t_mod = embedding_pair("Embedding")
    e_opt = getattr(ember.optim, name)(e_mod.parameters(), **kwargs)
    t_opt = getattr(torch.optim, name)(t_mod.parameters(), **kwargs)
    rng = np.random.default_rng(4)

    def step(e_opt):
        idx, target = rng.integers(0, 10, size=(2, 4)), rng.standard_normal(24)
        for m, opt, lib in ((e_mod, e_opt, ember), (t_mod, t_opt, torch)):
            opt.zero_grad()
            sparse_step(m, lib, idx, target).backward()
            opt.step()
        np.testing.assert_allclose(e_mod.weight.detach().numpy(), t_mod.weight.detach().numpy(),
                                   **TOL)

    for _ in range(5):
        step(e_opt)
    saved = pickle.loads(pickle.dumps(e_opt.state_dict()))
    e_new = getattr(ember.optim, name)(e_mod.parameters(), **kwargs)
    e_new.load_state_dict(copy.deepcopy(saved))
    for _ in range(5):
        step(e_new)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("name, kwargs", [
    ("Adadelta", dict(lr=-1)), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(eps=-1)),
    ("Adadelta", dict(weight_decay=-0.1)),
    ("Adamax", dict(lr=-0.1)), ("Adamax", dict(eps=-1)), ("Adamax", dict(betas=(1.0, 0.9))),
    ("Adamax", dict(betas=(0.9, -0.1))), ("Adamax", dict(weight_decay=-1)),
    ("ASGD", dict(lr=-1)), ("ASGD", dict(weight_decay=-1)),
    ("Rprop", dict(lr=-1)), ("Rprop", dict(etas=(1.5, 1.2))), ("Rprop", dict(etas=(0.5, 0.9))),
    ("SparseAdam", dict(lr=0)), ("SparseAdam", dict(eps=0)), ("SparseAdam", dict(betas=(0.9, 1.0))),
    ("LBFGS", dict(lr=-0.5)),
])
def test_invalid_hyper_parameters_like_torch(name, kwargs):
    with pytest.raises(ValueError) as t_err:
        getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))], **kwargs)
    with pytest.raises(ValueError) as e_err:
        getattr(ember.optim, name)([ember.nn.Parameter(ember.ones(2))], **kwargs)
    assert str(e_err.value) == str(t_err.value)


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "ASGD", "Rprop"])
def test_tensor_learning_rate(name):
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        getattr(ember.optim, name)([ember.nn.Parameter(ember.ones(2))], lr=ember.ones(2))
    e_params, t_params = make_pair()
    e_opt = getattr(ember.optim, name)(e_params, lr=ember.tensor(0.01, dtype=ember.float64))
    t_opt = getattr(torch.optim, name)(t_params, lr=torch.tensor(0.01, dtype=torch.float64))
    run_side_by_side(e_opt, t_opt, e_params, t_params, steps=3)


@pytest.mark.parametrize("name, flag", [(n, f) for n in ("Adadelta", "Adamax", "ASGD", "Rprop")
                                        for f in ("capturable", "differentiable")])
def test_unsupported_flags_are_refused(name, flag):
    p = ember.nn.Parameter(ember.ones(2))
    with pytest.raises(NotImplementedError, match=flag):
        getattr(ember.optim, name)([p], **{flag: True})
    getattr(ember.optim, name)([p], **{flag: False}, foreach=None)


def sparse_grad_param(lib):
    p = lib.nn.Parameter(lib.ones(4, 2, dtype=lib.float64))
    p.grad = lib.sparse_coo_tensor(lib.tensor([[0, 2, 0]]), lib.ones(3, 2, dtype=lib.float64),
                                   (4, 2))
    return p


@pytest.mark.parametrize("name, kwargs", [
    ("Adam", {}), ("AdamW", {}), ("RMSprop", {}), ("Adadelta", {}), ("Adamax", {}), ("ASGD", {}),
    ("Rprop", {}), ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(weight_decay=0.1)),
])
def test_sparse_gradients_refused_as_torch(name, kwargs):
    with pytest.raises(RuntimeError) as t_err:
        getattr(torch.optim, name)([sparse_grad_param(torch)], **kwargs).step()
    p = sparse_grad_param(ember)
    before = p.detach().clone()
    with pytest.raises(RuntimeError) as e_err:
        getattr(ember.optim, name)([p], **kwargs).step()
    assert str(e_err.value) == str(t_err.value)
    assert p.detach().tolist() == before.tolist()


def test_sparse_adam_refuses_dense_gradients_and_sparse_params():
    message = "SparseAdam does not support dense gradients, please consider Adam instead"
    emb = ember.nn.Embedding(4, 2, sparse=True)
    dense = ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.SparseAdam([emb.weight, dense])
    emb(ember.tensor([1])).sum().backward()
    dense.grad = ember.ones(3)
    before = emb.weight.detach().numpy().copy()
    with pytest.raises(RuntimeError, match=message):
        opt.step()
    np.testing.assert_array_equal(emb.weight.detach().numpy(), before)
    sparse_param = ember.sparse_coo_tensor([[0]], [1.0], (2,))
    with pytest.raises(ValueError, match=r"Sparse params at indices \[\[0, 0\]\]"):
        ember.optim.SparseAdam([sparse_param])


def test_sparse_adam_skips_empty_gradients_but_counts_the_step():
    emb = ember.nn.Embedding(4, 2, sparse=True, padding_idx=0).double()
    t_emb = torch.nn.Embedding(4, 2, sparse=True, padding_idx=0).double()
    with torch.no_grad():
        t_emb.weight.copy_(torch.from_numpy(emb.weight.detach().numpy().copy()))
    opts = [ember.optim.SparseAdam(emb.parameters(), lr=0.1),
            torch.optim.SparseAdam(t_emb.parameters(), lr=0.1)]
    for idx in ([0, 0], [1, 3, 1], [0], [2, 1]):
        for m, opt, lib in ((emb, opts[0], ember), (t_emb, opts[1], torch)):
            opt.zero_grad()
            m(lib.tensor(idx)).pow(2).sum().backward()
            opt.step()
    np.testing.assert_allclose(emb.weight.detach().numpy(), t_emb.weight.detach().numpy(), **TOL)
    assert opts[0].state[emb.weight]["step"] == opts[1].state[t_emb.weight]["step"] == 4


def test_closure_and_zero_grad_with_sparse_gradients():
    emb = ember.nn.Embedding(5, 2, sparse=True)
    opt = ember.optim.SGD(emb.parameters(), lr=0.1, momentum=0.9)

    def closure():
        opt.zero_grad(set_to_none=False)
        loss = emb(ember.tensor([1, 2])).sum()
        loss.backward()
        return loss

    assert opt.step(closure) is not None
    opt.zero_grad(set_to_none=False)
    assert emb.weight.grad.is_sparse and emb.weight.grad._nnz() == 0
    buf = opt.state[emb.weight]["momentum_buffer"]
    assert buf.is_sparse
