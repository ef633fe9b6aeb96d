"""The SQLModel tables. Import from here: `from syndicator.models import Publication`."""

from syndicator.models.article import (
    Article,
    ArticleState,
    ArticleVersion,
    Attachment,
    Publication,
    PublicationState,
    VersionStatus,
)
from syndicator.models.audit import AuditEvent, RefusalCount, WebhookDelivery
from syndicator.models.check import CheckResult, ReviewState, Severity
from syndicator.models.common import UTCDateTime, utcnow
from syndicator.models.dashboard import AppSecret, DashboardSession
from syndicator.models.moderation import (
    ApplyState,
    ChatDelivery,
    Comment,
    CommentCategory,
    CommentIntake,
    CommentState,
    Notification,
)
from syndicator.models.obligation import FeedState, Obligation, ObligationState, SilenceWarning, UpstreamItem
from syndicator.models.org import (
    LIVE_ACCOUNT_STATUSES,
    AccountStatus,
    ApiToken,
    ChannelAccount,
    Role,
    Unit,
    UnitLevel,
    User,
)

__all__ = [
    "AppSecret",
    "DashboardSession",
    "AccountStatus",
    "LIVE_ACCOUNT_STATUSES",
    "ApplyState",
    "ChatDelivery",
    "CheckResult",
    "Comment",
    "CommentIntake",
    "CommentCategory",
    "CommentState",
    "FeedState",
    "Notification",
    "Obligation",
    "ObligationState",
    "ReviewState",
    "Severity",
    "SilenceWarning",
    "UpstreamItem",
    "ApiToken",
    "Article",
    "ArticleState",
    "ArticleVersion",
    "Attachment",
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
    "RefusalCount",
    "WebhookDelivery",
    "utcnow",
]
