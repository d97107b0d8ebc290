"""(being written)"""

FUNCTIONS = {}
METHODS = {}
