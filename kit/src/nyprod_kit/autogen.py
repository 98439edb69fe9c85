"""Writes a service's next Alembic revision from its models, compared with what the existing
revisions build on an empty SQLite database:

    python -m nyprod_kit.autogen units.db.models "add a column" 0002
"""

from __future__ import annotations

import importlib
import sys

from alembic import command
from sqlalchemy import create_engine

from .migrations import alembic_config


def main(models_module: str, message: str, revision_id: str) -> None:
    models = importlib.import_module(models_module)
    cfg = alembic_config(models.MIGRATIONS)
    with create_engine("sqlite://").begin() as conn:
        cfg.attributes["connection"] = conn
        cfg.attributes["target_metadata"] = models.metadata
        command.upgrade(cfg, "head")
        command.revision(cfg, message=message, autogenerate=True, rev_id=revision_id)


if __name__ == "__main__":
    main(*sys.argv[1:4])
