# The steps of _optim.pyx compiled for AVX-512 (x86-64-v4); chosen at run time.
include "_optim.pyx"
