"""Veil: sealed public-security records, disclosed only as the law names."""

__version__ = "0.1.0"
