"""Build of the optional compiled columnar codec; all other metadata lives in pyproject.toml.

The extension is optional: without a C compiler (or without Cython) the install still succeeds
and the library uses its NumPy parser.
"""

from __future__ import annotations

from setuptools import Extension, setup

PACKAGE = "ma_dataplatforms_streaming_support_library.columnar._native"
SOURCE = "src/ma_dataplatforms_streaming_support_library/columnar/_native/_codec.pyx"


def extensions() -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    codec = Extension(f"{PACKAGE}._codec", [SOURCE], optional=True)
    return cythonize([codec], compiler_directives={"language_level": "3"}, quiet=True)


setup(ext_modules=extensions())
