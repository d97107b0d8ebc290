"""Library bugs that make family tests fail on the 'checked' backend, reported and not
yet fixed. A test marked ``@pytest.mark.fails_on_checked(BUG)`` is a strict expected
failure there (tests/plugins/conftest.py): once the library is fixed the test passes,
and the strict mark fails it until the mark is removed."""

GRADGRADCHECK_GRAD_OUTPUTS_ON_CPU = (
    "core/autograd/gradcheck.py:106: gradgradcheck makes its default grad_outputs on the cpu "
    "whatever the outputs' device")
GENERIC_BAG_MAX_TAKES_NAN = (
    "plugins/sparse/kernels.py:69: the generic embedding_bag max (xp argmax) picks a NaN that "
    "follows a number in its bag; torch and the cpu (Cython) kernel keep the number")
