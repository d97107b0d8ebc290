# The kernels of _softmax.pyx compiled for AVX2 + FMA (x86-64-v3); chosen at run time.
include "_softmax.pyx"
