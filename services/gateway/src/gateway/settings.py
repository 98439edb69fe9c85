from pathlib import Path

from pydantic_settings import SettingsConfigDict

from nyprod_kit.settings import ServiceSettings

# Good enough for a developer's machine and nothing else: outside local mode start-up refuses it.
LOCAL_SECRET_KEY = "nyprod-local-development-only-secret-key"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    database_url: str = "sqlite+aiosqlite:///./.run/gateway.db"
    port: int = 8000

    # local mode: demo users (admin/admin, agent/agent, viewer/viewer) and the built-in secret
    local_mode: bool = False
    secret_key: str = LOCAL_SECRET_KEY
    token_ttl_seconds: int = 8 * 3600
    # creates the first admin outside local mode when no admin exists yet
    admin_username: str = "admin"
    admin_password: str | None = None

    units_url: str = "http://127.0.0.1:8002"
    prospects_url: str = "http://127.0.0.1:8001"
    buyers_url: str = "http://127.0.0.1:8003"
    connect_timeout_seconds: float = 2.0
    read_timeout_seconds: float = 10.0
    # connections to the services for ordinary calls; a call waits at most
    # connect_timeout_seconds for a free one
    upstream_max_connections: int = 500
    # long-polls (GET or POST …?wait=S) hold a connection for up to S seconds: a pool of their own, so
    # that a rush of them never makes ordinary calls wait for a connection
    long_poll_max_connections: int = 1000
    # below the services' keep-alive (uvicorn's timeout_keep_alive, 75 s in nyprod_kit.runtime),
    # so the gateway drops an idle connection before a service closes it under a request
    upstream_keepalive_seconds: float = 20.0
    # a booking asked for or requested with ?wait=S may wait up to 30 s in the prospects service
    max_wait_seconds: float = 30.0

    max_body_bytes: int = 1024 * 1024

    # each call checks its user's role and token version; they are kept this many seconds per
    # process. A change made through this process counts at once, one made through another
    # replica after at most this long. 0: every call reads the users table.
    user_cache_seconds: float = 5.0

    stream_queue_size: int = 256
    stream_heartbeat_seconds: float = 15.0

    # the services' OpenAPI documents: retried this often while one is missing, else refreshed
    openapi_retry_seconds: float = 3.0
    openapi_refresh_seconds: float = 300.0

    # the web client's files; served at / when it holds an index.html
    web_dir: Path = Path(__file__).parent / "web"

    def service_urls(self) -> dict[str, str]:
        return {
            "units": self.units_url.rstrip("/"),
            "prospects": self.prospects_url.rstrip("/"),
            "buyers": self.buyers_url.rstrip("/"),
        }
