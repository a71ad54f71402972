"""promptls: what a Claude prompt costs, before you send it."""

__version__ = "0.1.0"
