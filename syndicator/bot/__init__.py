"""The moderators' Telegram bot (aiogram 3): comment cards, decisions, replies, /queue, /stats."""
