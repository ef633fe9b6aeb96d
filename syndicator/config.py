"""All configuration, from environment variables (prefix SYNDICATOR_) or a `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SYNDICATOR_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./syndicator.db"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # The arq queue; the demo uses its own so it never mixes with a running installation.
    queue_name: str = "syndicator:queue"
    ingest_secret: SecretStr = SecretStr("")
    ingest_max_body_bytes: int = 2 * 1024 * 1024
    signature_tolerance_seconds: int = 300

    telegram_token: SecretStr = SecretStr("")
    telegram_api_url: str = "https://api.telegram.org"
    moderation_chat_id: int | None = None
    officer_chat_id: int | None = None

    # This installation's public IP address; Weibo requires it with every post (`rip`).
    public_ip: str | None = None

    # The office's wording dictionary (wrong<TAB>correct<TAB>severity<TAB>note), merged on the shipped one.
    wording_file: Path | None = None

    # Holiday schedules for years chinesecalendar does not know yet (see syndicator/workdays.py).
    holiday_schedule_file: Path | None = None

    # WeChat's PUBLISHJOBFINISH push (服务器配置): the token and, in safe mode, the EncodingAESKey.
    wechat_callback_token: SecretStr = SecretStr("")
    wechat_encoding_aes_key: SecretStr = SecretStr("")

    # Comments that are plainly spam (gambling, ads, phishing) are rejected without a moderator.
    comment_auto_reject_spam: bool = True

    # Repost obligations (江苏 苏政办发〔2017〕96号) and update-frequency supervision.
    # Feeds: [{"url": …, "source": "www.gov.cn", "level": "national"|"province", "unit": …}]
    obligation_feeds: list[dict[str, str]] = Field(default_factory=list)
    obligation_window_hours: float = 12
    obligation_reminder_hours: list[float] = Field(default_factory=lambda: [4, 1])
    obligation_platforms: list[str] = Field(default_factory=lambda: ["wechat", "weibo", "app"])
    obligation_important_categories: list[str] | None = None  # None: the built-in list
    compliance_silent_days: int = 14
    compliance_municipal_min_per_week: int = 2
    dashboard_session_secret: SecretStr = SecretStr("")

    # Extra routing: unit name -> names of further accounts every article of that unit goes to.
    routing: dict[str, list[str]] = Field(default_factory=dict)

    # Fan-out: transient failures are retried with exponential backoff and jitter, then dead-lettered.
    publish_max_attempts: int = 6
    retry_base_seconds: float = 2.0
    retry_cap_seconds: float = 600.0
    channel_timeout_seconds: float = 15.0
    job_timeout_seconds: int = 120
    worker_max_jobs: int = 50
    # How often an idle worker looks for due jobs; bounds the queue's share of publish latency.
    worker_poll_delay_seconds: float = 0.01
    # A publication untouched this long in pending/sending is re-enqueued by the reconciler.
    stuck_after_seconds: int = 60
    async_publish_poll_seconds: float = 5.0
    # The consistency audit reads every live post back this often (hours of the day, Asia/Shanghai).
    consistency_audit_hours: set[int] = Field(default_factory=lambda: {2, 14})

    # One call budget per platform credential (syndicator/quota.py), per clock hour. Weibo: "150
    # calls/user/app/hour" (platforms.md §3.3); WeChat's quotas are daily per API. 0: no budget.
    quota_calls_per_hour: dict[str, int] = Field(
        default_factory=lambda: {"weibo": 150, "wechat": 2000, "app": 0}
    )
    # Polling and audits may spend only this share of an hour's budget; publishing may spend it all.
    quota_background_share: float = 0.5
    # Moderation actions (approve/reject/reply) may spend this share.
    quota_action_share: float = 0.8
    # Added to the reset a platform reports before any caller on the credential calls again.
    quota_margin_seconds: float = 5.0

    # Comment intake follows the article's age (syndicator/moderation/cadence.py): poll every
    # interval while younger than its age (hours), stop after `comment_intake_stop_days`.
    comment_poll_schedule: list[tuple[float, float]] = Field(
        default_factory=lambda: [(24, 120), (24 * 7, 1800)]
    )
    comment_poll_old_seconds: float = 6 * 3600
    comment_intake_stop_days: float = 30
    # App accounts are read through their comment feed (and push): at this fixed interval.
    comment_feed_poll_seconds: float = 60

    @property
    def officer_chat_id_or_moderation(self) -> int | None:
        """Reminders and escalations go to the officers' chat, which defaults to the moderators'."""
        return self.officer_chat_id if self.officer_chat_id is not None else self.moderation_chat_id

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
