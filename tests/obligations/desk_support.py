"""Helpers for the desk tests: a signed-in dashboard client."""

from __future__ import annotations

import httpx


async def sign_in(client: httpx.AsyncClient, name: str, token: str) -> httpx.Response:
    form = await client.get("/dashboard/login")
    csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
    return await client.post("/dashboard/login", data={"name": name, "token": token, "csrf": csrf})
