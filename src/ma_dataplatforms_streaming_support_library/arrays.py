"""NumPy array types used across the package: one name per element type."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "BoolArray",
    "F64Array",
    "I8Array",
    "I32Array",
    "I64Array",
    "ObjArray",
    "U8Array",
    "U64Array",
]

BoolArray = npt.NDArray[np.bool_]
U8Array = npt.NDArray[np.uint8]
I8Array = npt.NDArray[np.int8]
I32Array = npt.NDArray[np.int32]
I64Array = npt.NDArray[np.int64]
U64Array = npt.NDArray[np.uint64]
F64Array = npt.NDArray[np.float64]
ObjArray = npt.NDArray[np.object_]
