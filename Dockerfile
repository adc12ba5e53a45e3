# Vigie's container image: `docker compose up` (compose.yaml) runs it in Socket Mode from .env, on PostgreSQL.
# Debian slim, so the system packages are the ones CI installs, through the same script (.ci/run).
FROM python:3.11-slim-bookworm

# Spelling dictionaries (hunspell), the French grammar checker (Grammalecte, in Debian's own python3) and a font
# for the digest's chart: deploy/system-packages.sh, exactly as CI runs it (without the test-only packages).
COPY deploy/system-packages.sh /usr/local/sbin/vigie-system-packages
RUN /usr/local/sbin/vigie-system-packages && rm -rf /var/lib/apt/lists/*

# Vigie itself, with the PostgreSQL driver. bot/manifest.yaml links ../manifest.yaml: both are copied.
WORKDIR /opt/vigie
COPY pyproject.toml README.md LICENSE manifest.yaml ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install --no-cache-dir '.[postgres]' && rm -rf /opt/vigie/build

# Never root at run time.
RUN useradd --create-home --uid 10001 --user-group vigie
USER vigie
WORKDIR /home/vigie
ENV PYTHONUNBUFFERED=1 \
    VIGIE_GRAMMALECTE_PYTHON=/usr/bin/python3

# Socket Mode (no public URL needed); port 8080 serves the intake API, /healthz and /metrics.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["vigie", "run", "--host", "0.0.0.0", "--port", "8080"]
