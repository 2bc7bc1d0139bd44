# One image recipe for every service: docker build --build-arg SERVICE=inbox -t hanout/inbox .
# The build stage resolves the service's locked dependencies into /app/.venv; the runtime stage
# carries only that venv, so neither uv nor the other services' code ships in the image.

FROM python:3.11-slim AS build

ARG SERVICE
RUN test -n "$SERVICE" || { echo "build with --build-arg SERVICE=<ingest|inbox|customers|orders>" >&2; exit 1; }

RUN pip install --no-cache-dir uv==0.13.9

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /src
COPY . .

# --no-editable installs the workspace packages into the venv, so the source tree can be dropped.
RUN uv sync --frozen --no-dev --no-editable --package "hanout-$SERVICE"

# Each service listens on its own port from ARCHITECTURE §7 unless PORT says otherwise.
RUN case "$SERVICE" in \
        ingest) echo 8001 ;; \
        inbox) echo 8002 ;; \
        customers) echo 8003 ;; \
        orders) echo 8004 ;; \
        *) echo "unknown SERVICE '$SERVICE'" >&2; exit 1 ;; \
    esac > /app/default-port


FROM python:3.11-slim

ARG SERVICE
ENV SERVICE=${SERVICE} \
    PATH=/app/.venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

# A numeric, non-root user so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 hanout \
    && useradd --system --uid 10001 --gid hanout --no-create-home --home-dir /nonexistent hanout

COPY --from=build /app /app
WORKDIR /app
USER 10001:10001

HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; port = os.environ.get('PORT') or open('/app/default-port').read().strip(); r.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2)"]

# exec: uvicorn becomes PID 1 and receives SIGTERM, so the lifespan stops the broker cleanly.
CMD ["sh", "-c", "exec uvicorn \"$SERVICE.app:create_app\" --factory --host 0.0.0.0 --port \"${PORT:-$(cat /app/default-port)}\" --proxy-headers --forwarded-allow-ips '*' --no-server-header"]
