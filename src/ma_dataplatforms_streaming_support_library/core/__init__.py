"""Services behind the official API; they talk to brokers only through transport/."""

__all__: list[str] = []
