"""Where the shipped templates, static files and translations are."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def asset_dir(name: str) -> Path:
    """Return the top-level ``templates``/``static`` folder.

    A wheel carries them as ``kiosk/_assets/<name>``; a source checkout or an
    editable install has them at the top of the repository.
    """
    packaged = PACKAGE_DIR / "_assets" / name
    if packaged.is_dir():
        return packaged
    return PACKAGE_DIR.parent / name
