# syntax=docker/dockerfile:1
# courseplatform: one image for every process (README "Production"). The command picks
# the role:
#   python scripts/serve.py web        granian on $PORT (the default command)
#   python scripts/serve.py worker     the task worker
#   python scripts/serve.py periodic   the periodic jobs (watchdog, domain re-check, ...)
#   python manage.py migrate --noinput the release step, as the owner role
#   python manage.py <job> --quiet     one periodic job (a Kubernetes CronJob)
#   python scripts/db_backup.py dump   a database backup, as the owner role
# Build: docker build -t courseplatform:<version> .

# --- 1. frontend assets: Tailwind, esbuild bundles, fonts (Node only at build) ---------
FROM node:22-bookworm-slim AS assets
WORKDIR /build/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/src ./src
COPY frontend/scripts ./scripts
# Tailwind scans the templates and the Python code for class names (frontend/src/app.css).
COPY templates /build/templates
COPY courseplatform /build/courseplatform
RUN npm run build

# --- 2. Python dependencies from uv.lock, without the dev group -----------------------
FROM python:3.12-slim-bookworm AS python-deps
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The uv the Makefile uses, from PyPI.
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock .python-version ./
RUN uv sync --frozen --no-dev --no-install-project

# --- 3. the runtime image -------------------------------------------------------------
FROM python:3.12-slim-bookworm AS runtime
# pg_dump/pg_restore for scripts/db_backup.py (README "Backups and restore"): Debian
# bookworm's PostgreSQL 15 client, the major version compose.yaml and the tests run
# (pg_dump must be as new as the server).
# msgfmt (gettext) compiles the translation catalogs below.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15=15.* gettext=0.21* \
    && rm -rf /var/lib/apt/lists/*
# A fixed numeric uid, so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app
WORKDIR /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/static \
    STATIC_MANIFEST=true \
    PORT=8000
COPY --from=python-deps /app/.venv /app/.venv
COPY manage.py ./
COPY courseplatform ./courseplatform
COPY templates ./templates
COPY locale ./locale
COPY scripts ./scripts
COPY deploy ./deploy
COPY --from=assets /build/courseplatform/static/dist ./courseplatform/static/dist
# Hashed, gzipped static files baked into the image (README "Static files"). Settings
# need a SECRET_KEY to import: a throwaway one here, so no key is written into the image.
# The code is compiled now: the root filesystem may be read-only at run time.
RUN SECRET_KEY=collectstatic-only VAR_DIR=/tmp/build-var \
        python manage.py collectstatic --noinput -v0 \
    && SECRET_KEY=compilemessages-only VAR_DIR=/tmp/build-var python scripts/messages.py compile \
    && python -m compileall -q courseplatform scripts deploy manage.py \
    && rm -rf /tmp/build-var \
    && mkdir -p /app/var \
    && chown app:app /app/var
# The code belongs to root and is read-only for the app; it writes only to VAR_DIR
# (metrics files of the processes) and /tmp (transcoding scratch space).
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "deploy/healthcheck.py"]
CMD ["python", "scripts/serve.py", "web"]
