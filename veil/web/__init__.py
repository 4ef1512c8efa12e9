"""The web pages (Jinja2, server-rendered, Chinese and English): an edge like the API."""

from veil.web.router import router

__all__ = ["router"]
