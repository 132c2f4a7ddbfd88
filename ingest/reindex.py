"""Re-embed stored passages whose vectors came from another model."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select, update
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
            with factory() as session:  # read; the model runs with no transaction open
                batch = session.execute(
                    select(Passage.id, Passage.heading_path, Passage.anchor, Passage.text)
                    .where(Passage.model_id != embedder.model_id)
                    .order_by(Passage.id)
                    .limit(BATCH)
                ).all()
            if not batch:
                break
            texts = [
                Chunk(tuple(path), anchor, text).embedding_text() for _, path, anchor, text in batch
            ]
            vectors = embedder.encode_documents(texts)
            with factory() as session, session.begin():
                for (passage_id, *_), vector in zip(batch, vectors, strict=True):
                    session.execute(
                        update(Passage)
                        .where(Passage.id == passage_id)
                        .values(
                            embedding=np.asarray(vector, dtype=np.float32).tobytes(),
                            model_id=embedder.model_id,
                        )
                    )
            done += len(batch)
            bar.update(len(batch))
    return done
