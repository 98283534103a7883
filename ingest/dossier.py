"""Stage 3: a unit's dossier, recomputed whole from its current facts after every message."""

from __future__ import annotations

from sqlalchemy.orm import Session

from parsers.facts import MessageFacts
from store.blobs import BlobStore
from store.models import Message

from .config import Config


def after_message(s: Session, cfg: Config, blobs: BlobStore, msg: Message, facts: MessageFacts,
                  previous_unit: int | None) -> None:
    """Placeholder until the rules land (issue 4)."""
