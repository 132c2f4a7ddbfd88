"""Re-embed stored passages whose vectors came from another model."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from db.models import Passage
from index.embedder import Embedder
from ingest.chunking import Chunk

BATCH = 512


def reembed_stale_passages(
    factory: sessionmaker[Session], embedder: Embedder, *, show_progress: bool = False
) -> int:
    """Re-embed, batch by batch, every passage not embedded by `embedder`; returns how many."""
    with factory() as session:
        stale = (
            session.scalar(select(func.count()).where(Passage.model_id != embedder.model_id)) or 0
        )
    done = 0
    with tqdm(total=stale, unit="passage", disable=not show_progress or not stale) as bar:
        while True:
            with factory() as session, session.begin():
                batch = list(
                    session.scalars(
                        select(Passage)
                        .where(Passage.model_id != embedder.model_id)
                        .order_by(Passage.id)
                        .limit(BATCH)
                    )
                )
                if not batch:
                    break
                texts = [
                    Chunk(tuple(p.heading_path), p.anchor, p.text).embedding_text() for p in batch
                ]
                vectors = embedder.encode_documents(texts)
                for passage, vector in zip(batch, vectors, strict=True):
                    passage.embedding = np.asarray(vector, dtype=np.float32).tobytes()
                    passage.model_id = embedder.model_id
            done += len(batch)
            bar.update(len(batch))
    return done
