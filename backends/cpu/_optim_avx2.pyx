# The steps of _optim.pyx compiled for AVX2 + FMA (x86-64-v3); chosen at run time.
include "_optim.pyx"
