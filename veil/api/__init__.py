"""The HTTP API (FastAPI): an edge over the domain packages."""

from veil.api.app import create_app

__all__ = ["create_app"]
