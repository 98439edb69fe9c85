"""Writes a new Alembic revision from a service's metadata (compared with an empty SQLite
database plus the existing revisions): python -m nyprod_kit.autogen units.db.models "msg" 0002"""
import sys, importlib
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
mod = importlib.import_module(sys.argv[1])
msg = sys.argv[2]; rev = sys.argv[3]
eng = create_engine("sqlite://")
cfg = Config(); cfg.set_main_option("script_location", str(mod.MIGRATIONS))
with eng.begin() as conn:
    cfg.attributes["connection"] = conn
    cfg.attributes["target_metadata"] = mod.metadata
    command.revision(cfg, message=msg, autogenerate=True, rev_id=rev)
