# One image for the API (with the web UI), the cloud worker, edge workers and the plant simulator.

# The web UI, built from the committed lock file as `make install` builds it (nothing from a CDN at
# run time). IBM_TELEMETRY_DISABLED, SCARF_ANALYTICS: the Carbon packages' and swagger-ui-dist's install
# steps would start reporters that phone home.
FROM node:20-slim AS web
ENV IBM_TELEMETRY_DISABLED=true
ENV SCARF_ANALYTICS=false
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/index.html web/vite.config.ts web/tsconfig.json ./
COPY web/src ./src
COPY web/scripts ./scripts
RUN npm run build

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 MOM_DATA_DIR=/var/lib/mom
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mom ./mom
COPY bpmn ./bpmn
COPY workflows ./workflows
COPY activities ./activities
COPY connectors ./connectors
COPY api ./api
COPY worker.py ./
# api/web.py serves web/dist of the checkout under /ui/ (MOM_WEB_DIST says where, for the installed package)
COPY --from=web /web/dist ./web/dist
ENV MOM_WEB_DIST=/app/web/dist
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/mom mom && mkdir -p /var/lib/mom \
    && chown mom /var/lib/mom
USER mom
EXPOSE 8000
CMD ["uvicorn", "api.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
