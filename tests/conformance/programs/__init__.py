"""PyTorch 1.0 style programs that the tests run under torch and, with only the
import changed, under ember (see tests/conformance/test_programs.py)."""
