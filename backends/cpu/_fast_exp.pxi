# exp(t) for t <= 0 without libm calls or branches, so that GCC vectorises the
# loops that use it; included by the kernel files that need it (_kernels.pyx,
# _softmax.pyx), each built once per instruction set.
from libc.stdint cimport uint32_t, uint64_t

# Bit casts for the exponent trick in _exp_nonpos; memcpy is how C spells a
# type pun, and compilers turn it into a register move (vectorisable).
cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    static inline uint32_t ember_f32_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }
    static inline float ember_f32_from_bits(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
    static inline uint64_t ember_f64_bits(double f) { uint64_t b; memcpy(&b, &f, 8); return b; }
    static inline double ember_f64_from_bits(uint64_t b) { double f; memcpy(&f, &b, 8); return f; }
    """
    uint32_t ember_f32_bits(float) noexcept nogil
    float ember_f32_from_bits(uint32_t) noexcept nogil
    uint64_t ember_f64_bits(double) noexcept nogil
    double ember_f64_from_bits(uint64_t) noexcept nogil


cdef inline floating _exp_nonpos(floating t) noexcept nogil:
    # exp(t) for t <= 0 (or NaN), written without calls or branches so that
    # GCC vectorises the loops around it; libm's exp/expf would be called one
    # element at a time.  Cephes' expf/exp: t = k*ln2 + r with |r| <= ln2/2
    # (ln2 split in two so k*C1 is exact), a polynomial (float) or Pade
    # approximant (double) for exp(r).  Measured over dense grids against a
    # long-double reference, sigmoid is within 2.5 ulp in both dtypes.  k comes from the
    # round-to-nearest "magic number" trick, and 2**k is built from the
    # bits of that sum as 2**(k+S) * 2**-S so subnormal results are rounded
    # once and no float-to-int conversion is needed.  Unsigned arithmetic
    # keeps a NaN's garbage bits free of undefined behaviour; NaN propagates
    # through r and p.
    cdef floating s, kf, r, z, p, q
    if floating is float:
        t = <float>-104.0 if t < <float>-104.0 else t   # exp(-104) rounds to 0
        s = t * <float>1.44269504088896341 + <float>12582912.0   # 1.5 * 2**23
        kf = s - <float>12582912.0
        r = t - kf * <float>0.693359375
        r = r - kf * <float>-2.12194440e-4
        z = r * r
        p = ((((((<float>1.9875691500e-4 * r + <float>1.3981999507e-3) * r
                 + <float>8.3334519073e-3) * r + <float>4.1665795894e-2) * r
               + <float>1.6666665459e-1) * r + <float>5.0000001201e-1) * z
             + r + <float>1.0)
        # 2**(k + 32); k in [-150, 0] keeps the exponent field in [9, 159].
        q = ember_f32_from_bits(
            (ember_f32_bits(s) - ember_f32_bits(<float>12582912.0) + 159u) << 23)
        return p * q * <float>2.3283064365386963e-10   # 2**-32
    else:
        t = -746.0 if t < -746.0 else t                 # exp(-746) rounds to 0
        s = t * 1.4426950408889634074 + 6755399441055744.0   # 1.5 * 2**52
        kf = s - 6755399441055744.0
        r = t - kf * 6.93145751953125e-1
        r = r - kf * 1.42860682030941723212e-6
        z = r * r
        p = r * ((1.26177193074810590878e-4 * z + 3.02994407707441961300e-2) * z
                 + 9.99999999999999999910e-1)
        q = (((3.00198505138664455042e-6 * z + 2.52448340349684104192e-3) * z
              + 2.27265548208155028766e-1) * z + 2.00000000000000000009e0)
        p = 1.0 + 2.0 * p / (q - p)
        # 2**(k + 64); k in [-1076, 0] keeps the exponent field in [11, 1087].
        q = ember_f64_from_bits(
            (ember_f64_bits(s) - ember_f64_bits(6755399441055744.0) + 1087u) << 52)
        return p * q * 5.421010862427522170e-20         # 2**-64
