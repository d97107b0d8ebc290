"""Workloads replayed from a CUDA graph (``lib.cuda.CUDAGraph``, the same API in ember
and torch): the step is run eagerly on a side stream to warm up (optimizer state,
compiled kernels), captured once, and each call is one ``replay()``. What is left is
the GPU's own time: the Python and launch overhead of small models is gone."""

WARM_UP_STEPS = 3


def graphed(builder):
    """A workload builder (``builder(lib, device, size)``) whose workload runs as the
    replay of a graph that captured it; NotImplementedError off a GPU."""

    def build(lib, device, size):
        if not str(device).startswith("cuda"):
            raise NotImplementedError("CUDA graphs need a GPU (--device cuda)")
        run = builder(lib, device, size)
        side = lib.cuda.Stream()
        side.wait_stream(lib.cuda.current_stream())
        with lib.cuda.stream(side):
            for _ in range(WARM_UP_STEPS):
                run()
        lib.cuda.current_stream().wait_stream(side)
        g = lib.cuda.CUDAGraph()
        with lib.cuda.graph(g):
            run()
        # a replay reads and writes the workload's tensors (parameters, optimizer state,
        # inputs) where they were at capture: they must live as long as the replays do
        kept = (g, run)
        return lambda: kept[0].replay()

    build.__doc__ = f"{builder.__doc__.rstrip('.')}, replayed from a CUDA graph."
    return build
