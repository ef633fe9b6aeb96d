"""The SQLModel tables. Import from here: `from syndicator.models import Publication`."""

from syndicator.models.article import (
    Article,
    ArticleState,
    ArticleVersion,
    Publication,
    PublicationState,
    VersionStatus,
)
from syndicator.models.audit import AuditEvent, WebhookDelivery
from syndicator.models.common import UTCDateTime, utcnow
from syndicator.models.org import AccountStatus, ApiToken, ChannelAccount, Role, Unit, UnitLevel, User

__all__ = [
    "AccountStatus",
    "ApiToken",
    "Article",
    "ArticleState",
    "ArticleVersion",
    "AuditEvent",
    "ChannelAccount",
    "Publication",
    "PublicationState",
    "Role",
    "Unit",
    "UnitLevel",
    "User",
    "UTCDateTime",
    "VersionStatus",
    "WebhookDelivery",
    "utcnow",
]
