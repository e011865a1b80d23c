# ConvScope: the app and its API in one small image. (Hardening, multi-stage build and the
# healthcheck come with the production issue.)
FROM python:3.11-slim

WORKDIR /srv/convscope
COPY pyproject.toml README.md ./
COPY app ./app
COPY static ./static
COPY templates ./templates
RUN pip install --no-cache-dir .

USER 10001
EXPOSE 8000
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--no-server-header"]
