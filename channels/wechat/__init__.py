"""WeChat 公众号 (official account) channel: adapter, emulator, rendering, callback helpers."""
