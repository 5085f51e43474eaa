# Portfolio API: a slim image that runs as a non-root user and migrates on start.

# Build: the dependencies exactly as uv.lock has them, then the project, into /opt/venv.
FROM python:3.12.15-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv

# The uv that the Makefile bootstraps (UV_VERSION there).
RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /src
# The dependencies alone first: this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY app ./app
RUN uv sync --locked --no-dev --no-editable

# Run: the virtual environment, the migrations, no uv and no build tools.
FROM python:3.12.15-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    ENVIRONMENT=production \
    MEDIA_ROOT=/srv/media \
    WEB_CONCURRENCY=2

WORKDIR /srv/portfolio-api

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /srv/portfolio-api app \
    && mkdir -p /srv/media \
    && chown app:app /srv/media

COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY migrations ./migrations

USER 10001:10001
EXPOSE 8000
VOLUME ["/srv/media"]

HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

# DATABASE_URL must name PostgreSQL: production settings refuse SQLite.
CMD ["portfolio-api", "serve", "--migrate", "--host", "0.0.0.0", "--port", "8000"]
