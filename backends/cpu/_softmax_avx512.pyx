# The kernels of _softmax.pyx compiled for AVX-512 (x86-64-v4); chosen at run time.
include "_softmax.pyx"
