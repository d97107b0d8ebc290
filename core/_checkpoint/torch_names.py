"""The names torch's checkpoints give ember's dtypes, storages and rebuild functions."""

from .. import _dtype

# torch pickles a dtype as the global ``torch.<name>`` and a tensor's storage as
# the global ``torch.<Kind>Storage``; ember's dtype names are torch's names.
STORAGE_NAMES = {
    "float16": "HalfStorage", "float32": "FloatStorage", "float64": "DoubleStorage",
    "uint8": "ByteStorage", "int8": "CharStorage", "int16": "ShortStorage",
    "int32": "IntStorage", "int64": "LongStorage", "bool": "BoolStorage",
}
DTYPE_OF_STORAGE = {name: _dtype._BY_NAME[d] for d, name in STORAGE_NAMES.items()}

# dtypes torch has and ember has not, named in the error a file holding one gets
FOREIGN_STORAGES = {
    "BFloat16Storage": "bfloat16", "ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128",
    "QInt8Storage": "qint8", "QUInt8Storage": "quint8", "QInt32Storage": "qint32",
    "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
}

REBUILD_MODULE = "torch._utils"
REBUILD_TENSOR = "_rebuild_tensor_v2"
REBUILD_PARAMETER = "_rebuild_parameter"
