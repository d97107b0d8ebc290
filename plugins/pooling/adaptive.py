"""(being written)"""

MODULES = {}
FUNCTIONS = {}
CPU_KERNELS = {}
