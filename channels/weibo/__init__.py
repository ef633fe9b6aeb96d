"""Sina Weibo channel: adapter (open API client), emulator, status rendering and length counting."""
