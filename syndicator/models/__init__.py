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
from syndicator.models.check import CheckResult, ReviewState, Severity
from syndicator.models.common import UTCDateTime, utcnow
from syndicator.models.moderation import ApplyState, Comment, CommentIntake, CommentState, Notification
from syndicator.models.obligation import FeedState, Obligation, ObligationState, UpstreamItem
from syndicator.models.org import AccountStatus, ApiToken, ChannelAccount, Role, Unit, UnitLevel, User

__all__ = [
    "AccountStatus",
    "ApplyState",
    "CheckResult",
    "Comment",
    "CommentIntake",
    "CommentState",
    "FeedState",
    "Notification",
    "Obligation",
    "ObligationState",
    "ReviewState",
    "Severity",
    "UpstreamItem",
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
