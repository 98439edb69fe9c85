"""``python -m gateway`` runs the gateway; ``python -m gateway migrate`` only migrates.

Before serving, it checks what would make it unsafe or useless to start, and stops with one
line on stderr and exit code 1: a default or short secret key outside local mode, no admin user
and no acceptable GATEWAY_ADMIN_PASSWORD, an unreachable database or Kafka."""

import asyncio
import sys

from nyprod_kit.db import make_engine, make_sessionmaker
from nyprod_kit.migrations import upgrade_to_head
from nyprod_kit.runtime import configure_logging, first_line, migrate, preflight, serve

from . import handlers
from .db.models import MIGRATIONS
from .db.uow import GatewayUnitOfWork
from .main import build_app, ensure_sqlite_directory
from .settings import Settings


async def gateway_preflight(settings: Settings) -> str | None:
    """A one-line reason not to start, or None."""
    problem = handlers.configuration_problem(settings)
    if problem:
        return f"gateway: {problem}"
    ensure_sqlite_directory(settings.database_url)
    problem = await preflight(settings)
    if problem:
        return problem
    engine = make_engine(settings.database_url)
    try:
        await upgrade_to_head(engine, MIGRATIONS)
        await handlers.create_initial_users(GatewayUnitOfWork(make_sessionmaker(engine)), settings)
    except handlers.StartupRefused as exc:
        return f"gateway: {exc}"
    except Exception as exc:
        return f"gateway: cannot prepare the users database: {first_line(exc)}"
    finally:
        await engine.dispose()
    return None


def main() -> None:
    settings = Settings()
    if sys.argv[1:] == ["migrate"]:
        ensure_sqlite_directory(settings.database_url)
        asyncio.run(migrate(settings.database_url, MIGRATIONS))
        return
    configure_logging(settings.log_level)
    problem = asyncio.run(gateway_preflight(settings))
    if problem:
        print(problem, file=sys.stderr)
        raise SystemExit(1)
    serve(settings, build_app, check=False)


if __name__ == "__main__":
    main()
