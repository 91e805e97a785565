# One image for the API, the cloud worker, edge workers and the plant simulator.
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
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/mom mom && mkdir -p /var/lib/mom \
    && chown mom /var/lib/mom
USER mom
EXPOSE 8000
CMD ["uvicorn", "api.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
