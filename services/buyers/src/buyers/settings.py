from pydantic_settings import SettingsConfigDict

from nyprod_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BUYERS_", extra="ignore")

    service_name: str = "buyers"
    database_url: str = "sqlite+aiosqlite:///./.run/buyers.db"
    port: int = 8003
