"""Comment moderation (先审后发): ingest from the channels, screening, decisions, replies, due dates."""
