"""Build of the optional compiled columnar codec; all other metadata lives in pyproject.toml.

The extension is optional: without a C compiler (or without Cython) the install still succeeds
and the library uses its NumPy parser.
"""

from __future__ import annotations

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, CompileError, ExecError, PlatformError

PACKAGE = "ma_dataplatforms_streaming_support_library.columnar._native"
SOURCE = "src/ma_dataplatforms_streaming_support_library/columnar/_native/_codec.pyx"


class OptionalBuildExt(build_ext):
    """Builds the codec where it can; a failed build leaves the install to the NumPy parser.

    ``Extension(optional=True)`` alone does not cover every failure (an editable install with
    no working compiler then fails copying the missing library), so a failed extension is
    dropped from the outputs here.
    """

    def run(self) -> None:
        try:
            super().run()
        except (CCompilerError, CompileError, ExecError, PlatformError) as exc:
            self.warn(f"columnar native codec not built ({exc}); the NumPy parser will be used")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except (CCompilerError, CompileError, ExecError, PlatformError) as exc:
            self.warn(f"{ext.name} not built ({exc}); the NumPy parser will be used")
            ext.failed = True  # type: ignore[attr-defined]

    def copy_extensions_to_source(self) -> None:
        self.extensions = [e for e in self.extensions if not getattr(e, "failed", False)]
        super().copy_extensions_to_source()

    def get_outputs(self) -> list[str]:
        self.extensions = [e for e in self.extensions if not getattr(e, "failed", False)]
        return super().get_outputs()


def extensions() -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    codec = Extension(f"{PACKAGE}._codec", [SOURCE], optional=True)
    return cythonize([codec], compiler_directives={"language_level": "3"}, quiet=True)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
