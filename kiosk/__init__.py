"""The counter kiosk: survey pages, local store and staff mode.

Nothing is imported eagerly, so ``kiosk.clock`` or ``kiosk.chain`` load without
Flask; ``from kiosk import create_app`` still works (loaded on first use).
"""

__all__ = ["create_app"]


def __getattr__(name):
    """Load ``create_app`` from ``kiosk.app`` on first use; any other missing name raises AttributeError."""
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
