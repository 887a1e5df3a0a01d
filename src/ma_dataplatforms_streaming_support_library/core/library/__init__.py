"""Ours, not official paths: the library context, the support library object and its module APIs."""

__all__ = ["context", "module_api", "support_lib_api"]
