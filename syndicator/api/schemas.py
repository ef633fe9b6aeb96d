"""What the JSON routes answer, shared by more than one route: never a whole table row.

A publication's `idempotency_key` (what platforms dedupe on) and `remote_details` (the platform's
own ids and answers) stay inside; tests/integration/test_response_models.py walks the OpenAPI
schema to keep it so.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class PublicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    article_id: int
    version_id: int
    account_id: int
    state: str
    attempts: int
    generation: int
    remote_id: str | None
    remote_url: str | None
    error_code: str | None
    error_message: str | None
    next_attempt_at: datetime | None
    stalled_passes: int
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    published_at: datetime | None
