"""The rows ``ratio.py`` times: each a label, a builder written once for ember and torch
(``builder(lib, device, size)`` returns a function running the workload once), the
size it is built at, and how many ops one call runs (times are shown per op when
more than one).

Importing this module imports neither ember nor torch, so a worker process can load
the one library it times.
"""

from benchmarks import attention_workloads as aw
from benchmarks import graph_workloads as gw
from benchmarks import normalization_workloads as nw
from benchmarks import real_workloads as rw
from benchmarks import sequence_workloads as qw
from benchmarks import spatial_workloads as sw
from benchmarks import training_workloads as tw
from benchmarks import workloads

ROWS = [
    ("chain 4x4 fwd+bwd, per op", workloads.chain_backward, 4, workloads.CHAIN_OPS),
    ("chain 4x4 fwd no_grad, per op", workloads.chain_forward, 4, workloads.CHAIN_OPS),
    ("sigmoid fwd 1e6", workloads.sigmoid_forward, 10**6, 1),
    ("sigmoid fwd+bwd 1e6", workloads.sigmoid_backward, 10**6, 1),
    ("tanh bwd 1e6", workloads.tanh_backward, 10**6, 1),
    ("matmul 256", workloads.matmul_forward, 256, 1),
    ("matmul 256 fwd+bwd", workloads.matmul_backward, 256, 1),
    ("matmul 1024", workloads.matmul_forward, 1024, 1),
    ("matmul 1024 fwd+bwd", workloads.matmul_backward, 1024, 1),
    ("MLP 64-128-10 SGD step, b=64", tw.mlp_training_step, 64, 1),
    ("MLP 784-512-512-10 SGD step, b=128", tw.mlp_784_training_step, 128, 1),
    ("SGD momentum step, 1M params", tw.sgd_momentum_step, 10**6, 1),
    ("Adam step, 1M params", tw.adam_step, 10**6, 1),
    ("Conv2d 64-64 3x3 32x64x32x32 f+b", sw.conv2d_3x3, 32, 1),
    ("LeNet-5 SGD step, b=64, 28x28", sw.lenet5_training_step, 64, 1),
    ("ResNet basic block SGD step 16x64x32x32", tw.resnet_block_training_step, 16, 1),
    ("MaxPool2d 2 32x64x32x32 f+b", sw.max_pool2d, 32, 1),
    ("AvgPool2d 2 32x64x32x32 f+b", sw.avg_pool2d, 32, 1),
    ("ReflectionPad2d 1 32x64x32x32 f+b", sw.reflection_pad2d, 32, 1),
    ("Upsample x2 bilinear 32x64x32x32 f+b", sw.upsample_bilinear, 32, 1),
    ("Upsample x2 nearest 32x64x32x32 f+b", sw.upsample_nearest, 32, 1),
    ("BatchNorm2d 32x64x32x32 f+b", sw.batch_norm2d, 32, 1),
    ("LayerNorm 512 16x128x512 f+b", nw.layer_norm, 16, 1),
    ("GroupNorm 8x64 16x64x32x32 f+b", nw.group_norm, 16, 1),
    ("LSTM 2x200, seq 35, b=20 f+b", qw.lstm, 20, 1),
    ("GRU 2x200, seq 35, b=20 f+b", qw.gru, 20, 1),
    ("EmbeddingBag mean 10k x 64, b=512 f+b", qw.embedding_bag_mean, 512, 1),
    ("word LM 10k/200 LSTM step, b=20", rw.word_lm_training_step, 20, 1),
    ("digits CNN BN+Dropout Adam step, b=64", rw.digits_cnn_training_step, 64, 1),
    ("polynomial regression SGD step, b=32", rw.polynomial_regression_step, 32, 1),
    ("TransformerEncoderLayer 256/4/1024 SGD step, 32x128", aw.encoder_layer_training_step, 32, 1),
    ("sdpa causal 4x8x1024x64 f+b", aw.sdpa_causal, 1024, 1),
    # GPU only: one replay of a captured CUDA graph per call
    ("chain 4x4 fwd+bwd CUDA graph, per op", gw.graphed(workloads.chain_backward), 4, workloads.CHAIN_OPS),
    ("LeNet-5 SGD step b=64 CUDA graph", gw.graphed(sw.lenet5_training_step), 64, 1),
]

#: Rows whose throughput is also printed: label -> floating-point operations per
#: forward (a forward + backward does about three times as many).
FLOPS = {"Conv2d 64-64 3x3 32x64x32x32 f+b": sw.conv2d_3x3_flops(32)}
