"""The counter kiosk: survey pages, local store and staff mode."""

from .app import create_app

__all__ = ["create_app"]
