"""Runtime settings of Smart MOM, read from the environment (prefix ``MOM_``).

Build them with :func:`load_settings` where they are needed (composition roots: the CLI,
``worker.py``, the API factory); nothing here runs at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOM_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("data"))
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    task_queue: str = "mom"
    database_url: str = ""
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # API server processes `mom up` starts (uvicorn --workers): one Python process serves ~1 CPU at most
    api_workers: int = Field(default=2, ge=1, le=64)
    plant_port: int = 4840  # first simulated machine's OPC UA port; the next machines follow
    secret_key: str = DEVELOPMENT_SECRET
    # Budget of every diagram script, condition and expression (bpmn/script_budget.py); counted, not
    # timed, so it must be the same on every worker of a task queue (replays take the same path).
    script_max_operations: int = Field(default=250_000, ge=1000)  # loop iterations, calls, items of built-ins / 16
    script_max_size: int = Field(default=1_000_000, ge=1000)  # items of one list/dict, characters of one string
    script_max_data: int = Field(default=10_000_000, ge=1000)  # characters (as JSON) of the data a script leaves
    script_max_int_digits: int = Field(default=4_300, ge=100)  # decimal digits of one integer
    script_max_depth: int = Field(default=100, ge=10)  # nested calls (recursion), nested data
    max_parallel_instances: int = Field(default=10_000, ge=10)  # instances one parallel multi-instance starts
    # the API refreshes the query planner's row statistics this often (SQLite keeps none by itself)
    planner_statistics_interval_s: float = Field(default=600.0, ge=1.0)
    # an inbox total may lag the inbox by this much (the page never does): 0 counts at every change
    inbox_total_max_age_s: float = Field(default=1.0, ge=0.0, le=60.0)
    # workflows the embedded Temporal dev server keeps in memory (why 1,024: mom.stack.temporal_server)
    temporal_history_cache_entries: int = Field(default=1024, ge=16)

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError(
                "MOM_SECRET_KEY is the development default; set a secret of your own "
                "before running with MOM_ENVIRONMENT=production"
            )
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured database, or a SQLite file under the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'mom.db'}"

    @property
    def spec_dir(self) -> Path:
        return self.data_dir / "specs"


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
