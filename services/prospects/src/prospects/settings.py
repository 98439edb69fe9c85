from pydantic import Field
from pydantic_settings import SettingsConfigDict

from nyprod_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROSPECTS_", extra="ignore")

    service_name: str = "prospects"
    database_url: str = "sqlite+aiosqlite:///./.run/prospects.db"
    port: int = 8001
    # a booking that has not heard both answers by then is rejected with reason "timeout"
    booking_deadline_seconds: float = Field(default=30.0, gt=0)
    # how often the deadline sweeper looks for overdue bookings
    booking_sweep_seconds: float = Field(default=1.0, gt=0)
