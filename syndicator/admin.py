"""Administration: units, channel accounts, people and their tokens. Shared by the CLI and the API."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.base import Platform
from syndicator import audit
from syndicator.accounts import setting_problems
from syndicator.checks.pii import normalize_phone
from syndicator.models import (
    LIVE_ACCOUNT_STATUSES,
    AccountStatus,
    ApiToken,
    ChannelAccount,
    Role,
    Unit,
    UnitLevel,
    User,
    utcnow,
)
from syndicator.security import hash_token, new_token

# Settings `accounts update` may change; platform and unit are fixed (archive and add instead).
ACCOUNT_SETTINGS = ("name", "api_base_url", "app_id", "secret_env", "safe_domain", "default_cover")
# status -> the statuses `accounts disable|enable|archive` may move it to.
ACCOUNT_TRANSITIONS = {
    AccountStatus.ACTIVE: {AccountStatus.DISABLED, AccountStatus.ARCHIVED},
    AccountStatus.DISABLED: {AccountStatus.ACTIVE, AccountStatus.ARCHIVED},
    AccountStatus.ARCHIVED: set(),
}


class AdminError(Exception):
    """A request an administrator can fix: the message says how."""


async def unit_by_name(session: AsyncSession, name: str) -> Unit:
    unit = (await session.exec(select(Unit).where(Unit.name == name))).first()
    if unit is None:
        raise AdminError(f"unknown unit {name!r}; see `syndicator units list`")
    return unit


async def add_unit(
    session: AsyncSession,
    name: str,
    level: str,
    parent: str | None,
    *,
    actor: str,
    contact_phones: Sequence[str] = (),
) -> Unit:
    if level not in UnitLevel.__members__.values():
        raise AdminError(f"unknown level {level!r}; use one of: {', '.join(UnitLevel)}")
    if (await session.exec(select(Unit).where(Unit.name == name))).first() is not None:
        raise AdminError(f"unit {name!r} already exists")
    parent_id = (await unit_by_name(session, parent)).id if parent else None
    unit = Unit(name=name, level=level, parent_id=parent_id, contact_phones=_phones(contact_phones))
    session.add(unit)
    await session.flush()
    audit.record(session, actor=actor, action="unit.added", object_type="unit", object_id=unit.id, name=name)
    return unit


async def update_unit(
    session: AsyncSession, name: str, *, contact_phones: Sequence[str] | None, actor: str
) -> Unit:
    """Replace the unit's registered contact numbers (an empty list clears them)."""
    unit = await unit_by_name(session, name)
    if contact_phones is not None:
        unit.contact_phones = _phones(contact_phones)
    session.add(unit)
    audit.record(
        session,
        actor=actor,
        action="unit.updated",
        object_type="unit",
        object_id=unit.id,
        contact_phones=unit.contact_phone_list,
    )
    return unit


def _phones(values: Sequence[str]) -> str | None:
    """Normalised digits (no separators, no +86), comma-separated; a number must have 5+ digits."""
    phones = []
    for value in values:
        for part in value.split(","):
            digits = normalize_phone(part)
            if not part.strip():
                continue
            if len(digits) < 5 or len(digits) > 15:
                raise AdminError(f"{part.strip()!r} is not a phone number")
            phones.append(digits)
    return ",".join(dict.fromkeys(phones)) or None


async def add_account(
    session: AsyncSession,
    *,
    unit: str,
    platform: str,
    name: str | None,
    api_base_url: str | None = None,
    app_id: str | None = None,
    secret_env: str | None = None,
    safe_domain: str | None = None,
    default_cover: str | None = None,
    actor: str,
) -> ChannelAccount:
    if platform not in Platform.__members__.values():
        raise AdminError(f"unknown platform {platform!r}; use one of: {', '.join(Platform)}")
    owner = await unit_by_name(session, unit)
    existing = (
        await session.exec(
            select(ChannelAccount).where(
                ChannelAccount.unit_id == owner.id,
                ChannelAccount.platform == platform,
                col(ChannelAccount.status).in_(LIVE_ACCOUNT_STATUSES),
            )
        )
    ).first()
    if existing is not None:
        raise AdminError(
            f"unit {unit!r} already has a {existing.status} {platform} account ({existing.name!r}): "
            f"one account per platform per unit; `syndicator accounts archive {existing.id}` retires it"
        )
    assert owner.id is not None
    account = ChannelAccount(
        unit_id=owner.id,
        platform=platform,
        name=name or f"{unit}-{platform}",
        api_base_url=api_base_url,
        app_id=app_id,
        secret_env=secret_env,
        safe_domain=safe_domain,
        default_cover=default_cover,
    )
    _check_settings(account)
    session.add(account)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise AdminError(
            f"account name {account.name!r} is taken, or the unit already has a {platform} account"
        ) from exc
    audit.record(
        session,
        actor=actor,
        action="account.opened",
        object_type="channel_account",
        object_id=account.id,
        unit=unit,
        platform=platform,
    )
    return account


def _check_settings(account: ChannelAccount) -> None:
    if problems := setting_problems(account):
        raise AdminError("; ".join(problems))


async def account_by_ref(session: AsyncSession, ref: str) -> ChannelAccount:
    """An account by id or by name."""
    query = select(ChannelAccount).where(
        ChannelAccount.id == int(ref) if ref.isdigit() else ChannelAccount.name == ref
    )
    account = (await session.exec(query)).first()
    if account is None:
        raise AdminError(f"unknown account {ref!r}; see `syndicator accounts list`")
    return account


async def update_account(
    session: AsyncSession, ref: str, changes: dict[str, str | None], *, actor: str
) -> ChannelAccount:
    """Change settings (None leaves one as it is, "" clears it); the result must still be valid."""
    account = await account_by_ref(session, ref)
    if account.status == AccountStatus.ARCHIVED:
        raise AdminError(f"account {account.name!r} is archived; add a new one instead")
    changed = {}
    for field, value in changes.items():
        if field not in ACCOUNT_SETTINGS:
            raise AdminError(f"unknown account setting {field!r}")
        if value is not None and (value or None) != getattr(account, field):
            setattr(account, field, value or None)
            changed[field] = value or None
    if not changed:
        raise AdminError("nothing to change: give at least one setting, e.g. --default-cover FILE")
    _check_settings(account)
    session.add(account)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise AdminError(f"account name {account.name!r} is taken") from exc
    audit.record(
        session,
        actor=actor,
        action="account.updated",
        object_type="channel_account",
        object_id=account.id,
        changed=changed,
    )
    return account


async def set_account_status(session: AsyncSession, ref: str, status: str, *, actor: str) -> ChannelAccount:
    """disable / enable / archive. Archived accounts stay in the database with their history."""
    account = await account_by_ref(session, ref)
    if status not in ACCOUNT_TRANSITIONS[AccountStatus(account.status)]:
        raise AdminError(f"account {account.name!r} is {account.status}; it cannot become {status}")
    if status == AccountStatus.ACTIVE:
        _check_settings(account)  # an account fixed while disabled is re-checked before it sends again
    previous, account.status = account.status, status
    session.add(account)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"account.{status}",
        object_type="channel_account",
        object_id=account.id,
        previous=previous,
    )
    return account


async def add_user(
    session: AsyncSession,
    name: str,
    roles: list[str],
    *,
    telegram_id: int | None,
    scope: str | None,
    actor: str,
    wecom_user: str | None = None,
) -> User:
    unknown = [r for r in roles if r not in Role.__members__.values()]
    if unknown or not roles:
        raise AdminError(f"unknown role(s) {unknown}; use one or more of: {', '.join(Role)}")
    if (await session.exec(select(User).where(User.name == name))).first() is not None:
        raise AdminError(f"user {name!r} already exists")
    if wecom_user and (await session.exec(select(User).where(User.wecom_user == wecom_user))).first():
        raise AdminError(f"WeCom member {wecom_user!r} already belongs to another user")
    scope_id = (await unit_by_name(session, scope)).id if scope else None
    user = User(
        name=name,
        roles=",".join(sorted(set(roles))),
        telegram_id=telegram_id,
        wecom_user=wecom_user or None,
        scope_unit_id=scope_id,
    )
    session.add(user)
    await session.flush()
    audit.record(
        session, actor=actor, action="user.added", object_type="user", object_id=user.id, roles=user.roles
    )
    return user


async def user_by_name(session: AsyncSession, name: str) -> User:
    user = (await session.exec(select(User).where(User.name == name))).first()
    if user is None:
        raise AdminError(f"unknown user {name!r}; see `syndicator users list`")
    return user


async def issue_token(session: AsyncSession, name: str, *, actor: str) -> str:
    user = await user_by_name(session, name)
    assert user.id is not None
    token = new_token()
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
    audit.record(session, actor=actor, action="token.issued", object_type="user", object_id=user.id)
    return token


async def revoke_tokens(session: AsyncSession, name: str, *, actor: str) -> int:
    user = await user_by_name(session, name)
    tokens = (
        await session.exec(
            select(ApiToken).where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
        )
    ).all()
    for token in tokens:
        token.revoked_at = utcnow()
        session.add(token)
    audit.record(
        session, actor=actor, action="token.revoked", object_type="user", object_id=user.id, count=len(tokens)
    )
    return len(tokens)
