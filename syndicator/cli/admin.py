"""`syndicator units|accounts|users`: the registry of units, their channel accounts, and people."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator import admin
from syndicator.cli.support import CLI_ACTOR, in_transaction, print_rows
from syndicator.models import ChannelAccount, Unit, User

units_app = typer.Typer(help="Government units.", no_args_is_help=True)
accounts_app = typer.Typer(help="Channel accounts of units.", no_args_is_help=True)
users_app = typer.Typer(help="People, their roles and API tokens.", no_args_is_help=True)


@units_app.command("add")
def units_add(
    name: str,
    level: Annotated[str, typer.Option(help="national|province|city|county|department")],
    parent: Annotated[str | None, typer.Option()] = None,
) -> None:
    unit = in_transaction(lambda s: admin.add_unit(s, name, level, parent, actor=CLI_ACTOR))
    typer.echo(f"unit {unit.id} {unit.name} added")


@units_app.command("list")
def units_list() -> None:
    units = in_transaction(lambda s: _all(s, Unit))
    print_rows([{"id": u.id, "name": u.name, "level": u.level, "parent": u.parent_id or ""} for u in units])


@accounts_app.command("add")
def accounts_add(
    unit: Annotated[str, typer.Option()],
    platform: Annotated[str, typer.Option(help="app|wechat|weibo")],
    name: Annotated[str | None, typer.Option()] = None,
    api_base_url: Annotated[str | None, typer.Option(help="point the account at an emulator")] = None,
    app_id: Annotated[str | None, typer.Option()] = None,
    secret_env: Annotated[str | None, typer.Option(help="env var holding the secret")] = None,
    safe_domain: Annotated[str | None, typer.Option()] = None,
    default_cover: Annotated[str | None, typer.Option()] = None,
) -> None:
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
                "status": a.status,
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
