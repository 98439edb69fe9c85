"""``python -m buyers`` runs the service; ``python -m buyers migrate`` only migrates."""

from nyprod_kit.runtime import main

from .db.models import MIGRATIONS
from .main import build_app
from .settings import Settings

if __name__ == "__main__":
    main(Settings(), build_app, MIGRATIONS)
