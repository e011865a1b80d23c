# ConvScope: the app and its API. Two stages: wheels are built with the build tools, and the
# final image holds only the installed app, running as an unprivileged numeric user.
# Build: docker build -t convscope .   Run: docker run -p 8000:8000 convscope
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
# the Korean catalogues are compiled here (their .po files are the source; no .mo is committed)
RUN pip install --no-cache-dir babel==2.19.0 \
    && pybabel -q compile -d app/locale -D "pages app" \
    && pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11.11-slim-bookworm
# uvicorn reads these itself: UVICORN_PORT, WEB_CONCURRENCY (workers), FORWARDED_ALLOW_IPS
# (the proxies whose X-Forwarded-* headers it trusts). One BLAS thread per worker: scale with
# workers and replicas instead; idle OpenBLAS threads spin and took the other workers' CPU
# (p99 of a 2D step update with 2 workers: 12-87 ms with the default, 6-9 ms with one).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OPENBLAS_NUM_THREADS=1 \
    UVICORN_PORT=8000 \
    WEB_CONCURRENCY=2 \
    FORWARDED_ALLOW_IPS=127.0.0.1
WORKDIR /srv/convscope
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels convscope==0.1.0 \
    && rm -rf /wheels
COPY static ./static
COPY templates ./templates
# the installed package finds static/ and templates/ beside it through CONVSCOPE_ROOT
ENV CONVSCOPE_ROOT=/srv/convscope
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['UVICORN_PORT']}/healthz\", timeout=2)"]
# exec form: uvicorn is PID 1, so SIGTERM reaches it and in-flight requests finish
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--proxy-headers", "--no-server-header", "--timeout-graceful-shutdown", "20"]
