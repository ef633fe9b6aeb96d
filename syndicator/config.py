"""All configuration, from environment variables (prefix SYNDICATOR_) or a `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from channels.redaction import register_secret_environment, register_secrets

CHAT_FRONTENDS = ("telegram", "wecom")
# Without Telegram the outbox still addresses its audiences by chat id: these stand for
# "the moderators" and "the officers" (see syndicator/wecom/delivery.py).
WECOM_ONLY_MODERATION_CHAT = 0
WECOM_ONLY_OFFICER_CHAT = 1


class WeComRecipients(BaseModel):
    """Who gets a WeCom message: member UserIDs, department ids and tag ids (any mix)."""

    users: list[str] = Field(default_factory=list)
    parties: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.users or self.parties or self.tags)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SYNDICATOR_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./syndicator.db"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # The arq queue; the demo uses its own so it never mixes with a running installation.
    queue_name: str = "syndicator:queue"
    # The demo's Redis (default: database 8 of the server in redis_url); cleaned before and after.
    demo_redis_url: str | None = None
    ingest_secret: SecretStr = SecretStr("")
    ingest_max_body_bytes: int = 2 * 1024 * 1024
    signature_tolerance_seconds: int = 300
    # Every other request body (JSON API, forms, WeChat pushes) is capped at this while it is read,
    # and a body must arrive within body_read_timeout_seconds (408 otherwise).
    api_max_body_bytes: int = 64 * 1024
    body_read_timeout_seconds: float = 30.0

    telegram_token: SecretStr = SecretStr("")
    telegram_api_url: str = "https://api.telegram.org"
    moderation_chat_id: int | None = None
    officer_chat_id: int | None = None

    # Chat front ends for moderators and officers: "telegram", "wecom" or "telegram,wecom".
    chat_frontends: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["telegram"])
    # WeCom (企业微信) self-built application (自建应用): the secret stays in the variable named here.
    wecom_api_url: str = "https://qyapi.weixin.qq.com"
    wecom_corp_id: str = ""
    wecom_agent_id: int | None = None
    wecom_secret_env: str = ""
    wecom_callback_token: SecretStr = SecretStr("")
    wecom_encoding_aes_key: SecretStr = SecretStr("")
    # JSON, e.g. {"users": ["zhangsan"], "tags": ["3"], "parties": ["2"]}; officers default to moderators.
    wecom_moderators: WeComRecipients = Field(default_factory=WeComRecipients)
    wecom_officers: WeComRecipients | None = None

    # This installation's public IP address; Weibo requires it with every post (`rip`).
    public_ip: str | None = None

    # The office's wording dictionary (wrong<TAB>correct<TAB>severity<TAB>note), merged on the shipped one.
    wording_file: Path | None = None
    # Contact data the office publishes as official (one phone / e-mail / address a line, TAB note,
    # '#' comments), allowed by the personal-data check besides each unit's registered numbers.
    contact_allowlist_file: Path | None = None

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
    obligation_reminder_hours: list[float] = Field(default_factory=lambda: [4.0, 1.0])
    obligation_platforms: list[str] = Field(default_factory=lambda: ["wechat", "weibo", "app"])
    obligation_important_categories: list[str] | None = None  # None: the built-in list
    compliance_silent_days: int = 14
    compliance_municipal_min_per_week: int = 2
    # Officers' chats per unit (unit name -> chat id): reminder and silence digests of that unit's scope.
    obligation_unit_chats: dict[str, int] = Field(default_factory=dict)
    # Warn before the 14-day silence veto: on these days without an update, and (county accounts)
    # on each working day without one.
    compliance_silence_warn_days: list[int] = Field(default_factory=lambda: [7, 10])
    compliance_county_missed_day_warning: bool = True
    # The dashboard's own cookie key; without one, a key is generated once and kept in the database.
    dashboard_session_secret: SecretStr = SecretStr("")
    dashboard_session_hours: float = 8
    # Failed dashboard sign-ins allowed per user name and per client address in the window.
    dashboard_login_failures_per_user: int = 5
    dashboard_login_failures_per_address: int = 20
    dashboard_login_window_seconds: int = 900
    # The dashboard's address as people open it (https://…): chat cards of held versions link to
    # their preview there.
    dashboard_public_url: str | None = None
    # How often the dashboard's repost clock refreshes itself (seconds).
    dashboard_refresh_seconds: int = 30

    # Content-driven fetches (article images, feeds, link checks) reach public addresses only.
    # Test-only: admit loopback, where the tests' and the demo's local servers listen.
    fetch_allow_loopback: bool = False
    # Account name -> hosts (and their subdomains) its article images may come from; default: the
    # article's own portal domain.
    image_hosts: dict[str, list[str]] = Field(default_factory=dict)

    # Links and attachments in an article are checked before publishing (through the safe fetcher):
    # a dead link is a "warn" finding, or "block" (held for a reviewer); "off" skips the check.
    link_check: Literal["off", "warn", "block"] = "warn"
    link_check_cache_seconds: int = 3600  # one answer per URL for this long: bursts spare the portal
    link_check_timeout_seconds: float = 5.0

    # Extra routing: unit name -> names of further accounts every article of that unit goes to.
    routing: dict[str, list[str]] = Field(default_factory=dict)

    # Fan-out: transient failures are retried with exponential backoff and jitter, then dead-lettered.
    publish_max_attempts: int = 6
    retry_base_seconds: float = 2.0
    retry_cap_seconds: float = 600.0
    channel_timeout_seconds: float = 15.0
    job_timeout_seconds: int = 120
    worker_max_jobs: int = 50
    # The longest an idle worker waits between looks at the queue. Enqueues wake it at once and it
    # sleeps only until the next deferred job is due, so this only bounds jobs queued another way
    # (arq's own retries); keep it under 1 s, arq enqueues crons 1 s ahead.
    worker_poll_delay_seconds: float = 0.5
    # A publication untouched this long in pending/sending is re-enqueued by the reconciler.
    stuck_after_seconds: int = 60
    # Reconciler passes that re-enqueue a publication with no state change before it is failed (`stalled`).
    stalled_passes_limit: int = 5
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
        default_factory=lambda: [(24.0, 120.0), (24.0 * 7, 1800.0)]
    )
    comment_poll_old_seconds: float = 6 * 3600
    comment_intake_stop_days: float = 30
    # App accounts are read through their comment feed (and push): at this fixed interval.
    comment_feed_poll_seconds: float = 60

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        return async_database_url(url)

    @field_validator("chat_frontends", mode="before")
    @classmethod
    def _split_frontends(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("chat_frontends")
    @classmethod
    def _known_frontends(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(CHAT_FRONTENDS))
        if unknown:
            raise ValueError(f"unknown chat front end(s) {unknown}; use {', '.join(CHAT_FRONTENDS)}")
        return value

    @model_validator(mode="after")
    def _wecom_only_audiences(self) -> Settings:
        """Without Telegram, the outbox's chat ids name WeCom audiences instead of Telegram chats."""
        if "wecom" in self.chat_frontends and "telegram" not in self.chat_frontends:
            if self.moderation_chat_id is None:
                self.moderation_chat_id = WECOM_ONLY_MODERATION_CHAT
            if self.officer_chat_id is None and self.wecom_officers is not None:
                self.officer_chat_id = WECOM_ONLY_OFFICER_CHAT
        return self

    @property
    def wecom_enabled(self) -> bool:
        return "wecom" in self.chat_frontends

    @model_validator(mode="after")
    def _remember_secrets(self) -> Settings:
        """Secrets never leave their variables: every later log line, stored error, API answer and
        chat message is redacted of these values and of every secret-named environment variable
        (account secrets live in such variables)."""
        register_secrets(v.get_secret_value() for v in vars(self).values() if isinstance(v, SecretStr))
        register_secret_environment()
        return self

    @property
    def officer_chat_id_or_moderation(self) -> int | None:
        """Reminders and escalations go to the officers' chat, which defaults to the moderators'."""
        return self.officer_chat_id if self.officer_chat_id is not None else self.moderation_chat_id

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


# Plain URLs as operators and other tools write them -> the async drivers this service uses.
_ASYNC_SCHEMES = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


def async_database_url(url: str) -> str:
    """`postgres://`, `postgresql://` and `sqlite://` get their async driver; libpq's multi-host form
    `postgresql://u@h1:5432,h2:5432/db?target_session_attrs=read-write` becomes SQLAlchemy's
    `postgresql+asyncpg://u@/db?host=h1:5432&host=h2:5432&target_session_attrs=read-write`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    scheme = _ASYNC_SCHEMES.get(scheme, scheme)
    if scheme.startswith("postgresql"):
        rest = _hosts_as_query(rest)
    return f"{scheme}://{rest}"


def _hosts_as_query(rest: str) -> str:
    authority, slash, tail = rest.partition("/")
    userinfo, at, hosts = authority.rpartition("@")
    if "," not in hosts:
        return rest
    path, question, query = tail.partition("?")
    host_params = "&".join(f"host={host}" for host in hosts.split(",") if host)
    joined = "&".join(filter(None, [host_params, query]))
    return f"{userinfo}{at}/{path}?{joined}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
