"""``python -m prospects`` runs the service; ``python -m prospects migrate`` only migrates."""

import asyncio
import sys

from nyprod_kit.db import make_engine
from nyprod_kit.migrations import upgrade_to_head
from nyprod_kit.runtime import serve

from .db.models import MIGRATIONS
from .main import build_app
from .settings import Settings


def main() -> None:
    settings = Settings()
    if sys.argv[1:] == ["migrate"]:
        async def migrate() -> None:
            engine = make_engine(settings.database_url)
            await upgrade_to_head(engine, MIGRATIONS)
            await engine.dispose()

        asyncio.run(migrate())
        return
    serve(settings, build_app)


if __name__ == "__main__":
    main()
