"""Public contracts at the official import paths: data classes, enums and interfaces, no I/O."""

__all__: list[str] = []
