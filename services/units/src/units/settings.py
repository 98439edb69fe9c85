from pydantic_settings import SettingsConfigDict

from nyprod_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="UNITS_", extra="ignore")

    service_name: str = "units"
    database_url: str = "sqlite+aiosqlite:///./.run/units.db"
    port: int = 8002
