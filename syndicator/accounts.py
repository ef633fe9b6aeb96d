"""What each platform needs of an account, checked when it is added or changed and before sending.

Problems are returned as sentences that name the CLI flag to fix, so `accounts add` / `update`
and the dead-letter view tell an operator exactly what to do.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from channels.base import Platform
from syndicator.models import ChannelAccount


@dataclass(frozen=True)
class AccountSetting:
    field: str
    meaning: str

    @property
    def flag(self) -> str:
        return "--" + self.field.replace("_", "-")


API_BASE_URL = AccountSetting(
    "api_base_url", "the app backend's API root, e.g. https://app.example.gov.cn/api"
)
APP_ID = AccountSetting("app_id", "the 公众号's AppID (开发 → 基本配置)")
SECRET_ENV = AccountSetting("secret_env", "name of the environment variable holding the secret")
DEFAULT_COVER = AccountSetting(
    "default_cover", "a JPEG/PNG file of at most 64 KB: WeChat's cover when an article has none"
)
SAFE_DOMAIN = AccountSetting("safe_domain", "the Weibo app's registered 安全域名 (the portal's domain)")

# Required settings per platform, and what the secret variable holds (README's account table).
REQUIRED: dict[str, tuple[AccountSetting, ...]] = {
    Platform.APP: (API_BASE_URL, SECRET_ENV),
    Platform.WECHAT: (APP_ID, SECRET_ENV, DEFAULT_COVER),
    Platform.WEIBO: (SECRET_ENV, SAFE_DOMAIN),
}
SECRET_HOLDS = {
    Platform.APP: "the shared HMAC secret the app backend checks",
    Platform.WECHAT: "the AppSecret",
    Platform.WEIBO: "the OAuth2 access token of the account",
}

# Thumb material (material/add_material?type=thumb): "缩略图（thumb）：64KB，支持JPG格式" in WeChat's
# material docs (copies: blog.csdn.net/u013521220/article/details/103907189, imooc.com/qadetail/190007);
# PNG thumbs are accepted in practice (developers.weixin.qq.com community, oCJUswxEhow1qkmLfV4TNfDbkzNs).
COVER_MAX_BYTES = 64 * 1024
IMAGE_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")


def setting_problems(account: ChannelAccount) -> list[str]:
    """What is missing or wrong in the stored settings (no environment look-up)."""
    platform = account.platform
    problems = [
        f"{platform} accounts need {s.flag} ({s.meaning})"
        for s in REQUIRED.get(platform, ())
        if not getattr(account, s.field)
    ]
    if account.secret_env and not ENV_NAME.match(account.secret_env):
        problems.append(f"--secret-env must name an environment variable, not {account.secret_env!r}")
    if account.api_base_url and urlparse(account.api_base_url).scheme not in ("http", "https"):
        problems.append(f"--api-base-url must be an http(s) URL, not {account.api_base_url!r}")
    if account.safe_domain and not HOST_NAME.match(account.safe_domain.lower()):
        problems.append(f"--safe-domain must be a bare domain (xingning.gov.cn), not {account.safe_domain!r}")
    if platform == Platform.WECHAT and account.default_cover:
        problems.extend(filter(None, [cover_problem(account.default_cover)]))
    return problems


def cover_problem(path: str) -> str | None:
    """None when `path` is a JPEG/PNG file WeChat takes as a thumb; otherwise what is wrong."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return f"--default-cover {path!r} cannot be read on this machine ({exc.strerror or exc})"
    if not any(data.startswith(magic) for magic in IMAGE_MAGIC):
        return f"--default-cover {path!r} is not a JPEG or PNG image"
    if len(data) > COVER_MAX_BYTES:
        return (
            f"--default-cover {path!r} is {len(data) // 1024} KB; WeChat takes thumbs of at most "
            f"{COVER_MAX_BYTES // 1024} KB: shrink it"
        )
    return None


def secret_problem(account: ChannelAccount) -> str | None:
    """The secret variable the account names is unset here (checked where the worker runs)."""
    if account.secret_env and not os.environ.get(account.secret_env):
        return f"environment variable {account.secret_env} (--secret-env) is not set"
    return None


def runtime_problems(account: ChannelAccount) -> list[str]:
    """Everything that stops this process from using the account."""
    return [*setting_problems(account), *filter(None, [secret_problem(account)])]
