"""ember: the torch.nn API of PyTorch 1.0 on a minimal core with plugins.

``import ember as torch`` gives tensors with autograd, ``ember.nn`` and
``ember.nn.functional`` filled by layer-family plugins, and backends (``cpu``:
NumPy + Cython; ``cuda``: CuPy) that are plugins too.
"""

__version__ = "0.1.0"

import os as _os

# The Cython kernels' OpenMP workers share the cores with NumPy's OpenBLAS threads;
# busy-waiting workers (the OpenMP default) starve the GEMM that follows them:
# a LeNet-5 training step took 22.7 ms instead of 8.2 ms on 2 cores. The runtime
# reads this when it loads, with the first kernel; a user's own setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# The other way round: after a product, OpenBLAS's threads spin for 2**28 cycles
# (about 0.1 s) before they sleep, so in a training step every OpenMP kernel that
# follows a product (the pooling, a convolution's gradients after the Linear
# layers') ran on a core shared with a spinning thread: 2**20 cycles (a third of a
# millisecond) took a LeNet-5 step from 7.1-7.3 ms to 5.2-5.4 ms on 2 cores and left
# back-to-back products (matmul 256, the MLP 784 step) as fast. OpenBLAS reads it
# when it loads, so it applies when ember is imported before NumPy.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")

from . import _dtype
from ._dtype import (bool, double, dtype, finfo, float, float16, float32, float64, get_default_dtype, half, iinfo,
                     int, int8, int16, int32, int64, long, promote_types, result_type, can_cast,
                     set_default_dtype, short, uint8)
from ._size import Size
from ._device import device
from ._tensor import Tensor, is_tensor
from ._layout import layout, sparse_coo, strided
from .hookspecs import hookimpl, hookspec
from . import _methods
from ._ops import api_modules as _api_modules

_methods.install()
from ._sparse import sparse_coo_tensor  # noqa: E402  (after install: it refuses the dense methods)

from . import autograd  # noqa: E402
from ._creation import (arange, as_tensor, empty, empty_like, eye, from_dlpack, from_numpy, full,  # noqa: E402
                        full_like, linspace, ones, ones_like, tensor, zeros, zeros_like)
from ._generator import Generator, default_generator  # noqa: E402
from ._random import (bernoulli, get_rng_state, initial_seed, manual_seed, multinomial, normal,  # noqa: E402
                      rand, rand_like, randint, randint_like, randn, randn_like, randperm, seed, set_rng_state)
from ._ops.binary import (add, atan2, bitwise_and, bitwise_or, bitwise_xor, div, eq, floor_divide,  # noqa: E402
                          fmod, ge, gt, le, logical_and, logical_or, logical_xor, lt, maximum,
                          minimum, mul, ne, pow, remainder, sub)
from ._ops.select import clamp, masked_fill, where  # noqa: E402
from ._ops.reduce import (all, amax, amin, any, argmax, argmin, cumsum, logsumexp, max, mean,  # noqa: E402
                          min, norm, prod, std, std_mean, sum, var, var_mean)
from ._ops.shape import (broadcast_to, clone, expand, flatten, flip, movedim, permute, reshape,  # noqa: E402
                         squeeze, t, transpose, unflatten, unsqueeze, view)
from ._ops.index import (gather, index_select, masked_select, narrow, nonzero, scatter,  # noqa: E402
                         scatter_add, select, unbind)
from ._ops.join import cat, chunk, concat, concatenate, split, stack  # noqa: E402
from ._ops.softmax import log_softmax, softmax  # noqa: E402
from ._ops.linalg import bmm, dot, matmul, mm, outer  # noqa: E402
from ._ops.unary import UNARY_OPS as _UNARY  # noqa: E402
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: E402
from .serialization import load, save  # noqa: E402
from ._legacy_types import TYPES as _LEGACY_TYPES, set_default_tensor_type  # noqa: E402
from ._legacy_types import tensor_new as _tensor_new  # noqa: E402
from ._tensor_str import get_printoptions, printoptions, set_printoptions  # noqa: E402
from ._threads import get_num_threads, set_num_threads  # noqa: E402
from ._legacy_functions import inplace_functions as _inplace_functions, is_storage, range  # noqa: E402

globals().update(_UNARY)
for _api in _api_modules():
    globals().update(_api.FUNCTIONS)
globals().update(_LEGACY_TYPES)  # FloatTensor, LongTensor, ...
Tensor.new = _tensor_new
from ._sparse_ops import addmm, matmul, mm, to_sparse as _to_sparse  # noqa: E402  (take sparse operands)
Tensor.to_sparse = Tensor.to_sparse_coo = _to_sparse
globals().update(_methods.binary.ALIASES)  # greater, not_equal, arctan2, bitwise_not, ...
clip = clamp
divide, multiply, subtract, true_divide = div, mul, sub, div
isnan = Tensor.isnan
isinf = Tensor.isinf
isfinite = Tensor.isfinite
logical_not = Tensor.logical_not
square = Tensor.square
globals().update(_inplace_functions())  # relu_, clamp_, exp_, ... (zero_ among them)

from . import nn  # noqa: E402
from . import optim  # noqa: E402
from . import accelerator, cuda  # noqa: E402
from .backend import Backend  # noqa: E402
from ._plugins import MANAGER as _MANAGER  # noqa: E402

# Last: third-party plugins import ember and subclass ember.nn.Module while loading.
_MANAGER.load_entry_points()

from . import plugins  # noqa: E402
from . import utils  # noqa: E402
from . import distributions, kernels, linalg, onnx, sparse  # noqa: E402
from .backends import cudnn as _cudnn  # noqa: E402,F401  (torch.backends.cudnn.benchmark = True)
