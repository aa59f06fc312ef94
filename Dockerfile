# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 UV_PROJECT_ENVIRONMENT=/opt/venv UV_COMPILE_BYTECODE=1
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY scripts/ scripts/
RUN python scripts/fetch_landmark_model.py /opt/models

# supercronic runs ops/crontab in the cron container (docker-compose.yml).
FROM python:3.11-slim AS supercronic
# Checksum as published on https://github.com/aptible/supercronic/releases (re-check
# both when bumping the version).
ARG SUPERCRONIC_VERSION=v0.2.29
ARG SUPERCRONIC_SHA1SUM=cd48d45c4b10f3f0bfdd3a57d054cd05ac96812b
ADD https://github.com/aptible/supercronic/releases/download/${SUPERCRONIC_VERSION}/supercronic-linux-amd64 /supercronic
RUN echo "${SUPERCRONIC_SHA1SUM}  /supercronic" | sha1sum -c - && chmod 0755 /supercronic

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    LANDMARK_MODEL_PATH=/opt/models/face_landmarker.task MEDIA_ROOT=/data/media \
    BACKUP_DIR=/data/backups
# pg_dump/pg_restore for `manage.py backup` and `restore` (match the server's major).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /app app \
    && mkdir -p /data/media /data/backups && chown app /data/media /data/backups
COPY --from=supercronic /supercronic /usr/local/bin/supercronic
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/models /opt/models
WORKDIR /app
# The code belongs to root: the app user can read it, not change it.
COPY . .
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=build-only-$(head -c 48 /dev/urandom | base64) \
    DJANGO_ALLOWED_HOSTS=build EMAIL_URL=smtp://build python manage.py collectstatic --noinput
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/live/', timeout=4).status == 200 else 1)"
ENTRYPOINT ["docker/entrypoint.sh"]
CMD ["web"]
