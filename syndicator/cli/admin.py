"""`syndicator units|accounts|users`: the registry of units, their channel accounts, and people."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator import admin
from syndicator.accounts import runtime_problems, secret_problem
from syndicator.cli.support import CLI_ACTOR, in_transaction, print_rows, with_database
from syndicator.models import AccountStatus, ChannelAccount, Unit, User

CONTACT_HELP = "a number the unit publishes as its own (hotline, office phone); repeat for more"
units_app = typer.Typer(help="Government units.", no_args_is_help=True)
accounts_app = typer.Typer(help="Channel accounts of units.", no_args_is_help=True)
users_app = typer.Typer(help="People, their roles and API tokens.", no_args_is_help=True)


@units_app.command("add")
def units_add(
    name: str,
    level: Annotated[str, typer.Option(help="national|province|city|county|department")],
    parent: Annotated[str | None, typer.Option()] = None,
    contact_phone: Annotated[list[str] | None, typer.Option(help=CONTACT_HELP)] = None,
) -> None:
    unit = in_transaction(
        lambda s: admin.add_unit(s, name, level, parent, actor=CLI_ACTOR, contact_phones=contact_phone or ())
    )
    typer.echo(f"unit {unit.id} {unit.name} added")


@units_app.command("update")
def units_update(
    name: str,
    contact_phone: Annotated[list[str] | None, typer.Option(help=CONTACT_HELP)] = None,
    clear_contact_phones: Annotated[bool, typer.Option(help="forget every registered number")] = False,
) -> None:
    phones = [] if clear_contact_phones else contact_phone
    unit = in_transaction(lambda s: admin.update_unit(s, name, contact_phones=phones, actor=CLI_ACTOR))
    typer.echo(
        f"unit {unit.id} {unit.name} updated; contact phones: {', '.join(unit.contact_phone_list) or '-'}"
    )


@units_app.command("list")
def units_list() -> None:
    units = in_transaction(lambda s: _all(s, Unit))
    print_rows(
        [
            {
                "id": u.id,
                "name": u.name,
                "level": u.level,
                "parent": u.parent_id or "",
                "contact_phones": ",".join(u.contact_phone_list),
            }
            for u in units
        ]
    )


ApiBaseUrl = Annotated[
    str | None, typer.Option(help="app: the backend's API root (required); others: an emulator")
]
AppId = Annotated[str | None, typer.Option(help="wechat (required): the AppID")]
SecretEnv = Annotated[
    str | None, typer.Option(help="required: NAME of the env var holding the secret / access token")
]
SafeDomain = Annotated[str | None, typer.Option(help="weibo (required): the app's registered 安全域名")]
DefaultCover = Annotated[str | None, typer.Option(help="wechat (required): JPEG/PNG file, at most 64 KB")]


@accounts_app.command("add")
def accounts_add(
    unit: Annotated[str, typer.Option()],
    platform: Annotated[str, typer.Option(help="app|wechat|weibo")],
    name: Annotated[str | None, typer.Option()] = None,
    api_base_url: ApiBaseUrl = None,
    app_id: AppId = None,
    secret_env: SecretEnv = None,
    safe_domain: SafeDomain = None,
    default_cover: DefaultCover = None,
) -> None:
    """Open a unit's account on a platform; the platform's required settings are checked."""
    account = in_transaction(
        lambda s: admin.add_account(
            s,
            unit=unit,
            platform=platform,
            name=name,
            api_base_url=api_base_url,
            app_id=app_id,
            secret_env=secret_env,
            safe_domain=safe_domain,
            default_cover=default_cover,
            actor=CLI_ACTOR,
        )
    )
    typer.echo(f"account {account.id} {account.name} ({account.platform}) added")
    _warn_secret(account)


def _warn_secret(account: ChannelAccount) -> None:
    if problem := secret_problem(account):
        typer.secho(f"warning: {problem} here; the worker needs it", err=True, fg=typer.colors.YELLOW)


@accounts_app.command("show")
def accounts_show(account: Annotated[str, typer.Argument(help="id or name")]) -> None:
    """Every setting of one account, its status and what is wrong with it."""
    found = in_transaction(lambda s: admin.account_by_ref(s, account))
    for field in ("id", "name", "platform", "unit_id", "status", "needs_reauth", *admin.ACCOUNT_SETTINGS[1:]):
        typer.echo(f"{field:14} {getattr(found, field) if getattr(found, field) is not None else ''}")
    problems = runtime_problems(found)
    typer.echo(f"{'problems':14} {'; '.join(problems) if problems else 'none'}")


@accounts_app.command("update")
def accounts_update(
    account: Annotated[str, typer.Argument(help="id or name")],
    name: Annotated[str | None, typer.Option()] = None,
    api_base_url: ApiBaseUrl = None,
    app_id: AppId = None,
    secret_env: SecretEnv = None,
    safe_domain: SafeDomain = None,
    default_cover: DefaultCover = None,
) -> None:
    """Change settings (an empty value clears one); the result is checked like `add`."""
    changes = {
        "name": name,
        "api_base_url": api_base_url,
        "app_id": app_id,
        "secret_env": secret_env,
        "safe_domain": safe_domain,
        "default_cover": default_cover,
    }
    updated = in_transaction(lambda s: admin.update_account(s, account, changes, actor=CLI_ACTOR))
    typer.echo(f"account {updated.id} {updated.name} updated")
    _warn_secret(updated)


def _status_command(status: AccountStatus, doc: str) -> None:
    def command(account: Annotated[str, typer.Argument(help="id or name")]) -> None:
        changed = in_transaction(lambda s: admin.set_account_status(s, account, status, actor=CLI_ACTOR))
        typer.echo(f"account {changed.id} {changed.name} is {changed.status}")

    command.__doc__ = doc
    accounts_app.command(_STATUS_VERBS[status])(command)


_STATUS_VERBS = {
    AccountStatus.DISABLED: "disable",
    AccountStatus.ACTIVE: "enable",
    AccountStatus.ARCHIVED: "archive",
}
_status_command(
    AccountStatus.DISABLED, "Stop sending to and polling an account (it stays the unit's account)."
)
_status_command(AccountStatus.ACTIVE, "Resume a disabled account (its settings are checked first).")
_status_command(
    AccountStatus.ARCHIVED, "Retire an account for good; its history stays and the unit may open a new one."
)


@accounts_app.command("verify")
def accounts_verify(
    account: Annotated[str | None, typer.Argument(help="id or name; default: every account")] = None,
    unit: Annotated[str | None, typer.Option(help="only this unit's accounts")] = None,
) -> None:
    """Make each account's cheapest authenticated call; exit 1 unless every one answers OK."""
    from syndicator.verification import verify_accounts

    verdicts = with_database(lambda db: verify_accounts(db, unit=unit, ref=account))
    print_rows(
        [
            {"id": v.account_id, "account": v.account, "platform": v.platform, "status": v.status,
             "result": v.detail}
            for v in verdicts
        ]
    )  # fmt: skip
    raise typer.Exit(0 if verdicts and all(v.ok for v in verdicts) else 1)


@accounts_app.command("list")
def accounts_list() -> None:
    accounts = in_transaction(lambda s: _all(s, ChannelAccount))
    print_rows(
        [
            {
                "id": a.id,
                "name": a.name,
                "unit": a.unit_id,
                "platform": a.platform,
                "status": a.status + (" (needs reauth)" if a.needs_reauth else ""),
                "api_base_url": a.api_base_url or "(platform)",
            }
            for a in accounts
        ]
    )


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[list[str], typer.Option(help="admin|editor|reviewer|officer; repeatable")],
    telegram_id: Annotated[int | None, typer.Option()] = None,
    wecom_user: Annotated[str | None, typer.Option(help="the member's WeCom (企业微信) UserID")] = None,
    scope: Annotated[str | None, typer.Option(help="a unit: the user sees it and its subordinates")] = None,
) -> None:
    user = in_transaction(
        lambda s: admin.add_user(
            s, name, role, telegram_id=telegram_id, wecom_user=wecom_user, scope=scope, actor=CLI_ACTOR
        )
    )
    typer.echo(f"user {user.id} {user.name} added with roles {user.roles}")


@users_app.command("list")
def users_list() -> None:
    users = in_transaction(lambda s: _all(s, User))
    print_rows(
        [
            {
                "id": u.id,
                "name": u.name,
                "roles": u.roles,
                "telegram_id": u.telegram_id or "",
                "wecom_user": u.wecom_user or "",
                "active": u.active,
            }
            for u in users
        ]
    )


@users_app.command("token")
def users_token(name: str) -> None:
    """Issue an API token (shown once; only its hash is stored)."""
    typer.echo(in_transaction(lambda s: admin.issue_token(s, name, actor=CLI_ACTOR)))


@users_app.command("revoke")
def users_revoke(name: str) -> None:
    """Revoke every API token of a user."""
    count = in_transaction(lambda s: admin.revoke_tokens(s, name, actor=CLI_ACTOR))
    typer.echo(f"{count} token(s) revoked")


async def _all(session: AsyncSession, model: type[Any]) -> list[Any]:
    return list((await session.exec(select(model).order_by(col(model.id)))).all())
