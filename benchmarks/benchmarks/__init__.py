"""asv benchmarks of ember, one module per kernel family (``bench_<family>.py``).

Under asv, idle OpenMP threads that busy-wait made the Cython kernels' timings
slow and erratic (seen from 2x to 1000x); passive waiting is set here, before
NumPy or ember load the OpenMP runtime. ``workloads`` holds the code timed, shared
with ``benchmarks/ratio.py``.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "passive")
