# Portfolio API: a slim image that runs as a non-root user and migrates on start.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENVIRONMENT=production \
    MEDIA_ROOT=/srv/media \
    WEB_CONCURRENCY=2

WORKDIR /srv/portfolio-api

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /srv/portfolio-api app \
    && mkdir -p /srv/media \
    && chown app:app /srv/media

COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install .

USER 10001:10001
EXPOSE 8000
VOLUME ["/srv/media"]

HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

# DATABASE_URL must name PostgreSQL: production settings refuse SQLite.
CMD ["portfolio-api", "serve", "--migrate", "--host", "0.0.0.0", "--port", "8000"]
