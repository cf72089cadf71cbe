# One image for every service; compose / Kubernetes pick the service with
# `command: ["python", "-m", "services.<name>"]`.

# htmx for the portal's pages, from the lockfile (never a CDN): only its one file reaches the image.
FROM node:22-bookworm-slim AS npm
WORKDIR /npm
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MENTORSHIP_HTTP_HOST=0.0.0.0 \
    MENTORSHIP_HTTP_PORT=8000 \
    MENTORSHIP_PORTAL_HTMX_FILE=/opt/mentorship/htmx/htmx.min.js

COPY --from=npm /npm/node_modules/htmx.org/dist/htmx.min.js /npm/node_modules/htmx.org/LICENSE /opt/mentorship/htmx/

WORKDIR /src
COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
# The operator CLI (`mentorship republish`, `replay`, `export`, `hr import`) ships in the same image.
COPY mentorship ./mentorship
# Install, then drop the sources so `python -m services.<name>` runs the installed package.
RUN pip install --no-cache-dir . \
    && rm -rf /src \
    && groupadd --system --gid 10001 mentorship \
    && useradd --system --uid 10001 --gid mentorship --no-create-home --shell /usr/sbin/nologin mentorship

WORKDIR /app
USER mentorship:mentorship

EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3).status == 200 else 1)"]
