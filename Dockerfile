# camnet on Debian's own Python (bookworm: 3.11), nothing downloaded but Debian and PyPI
# packages. Build and run (docs/deploy.md):
#   docker build -t camnet .
#   docker run -p 8080:8080 -v camnet-data:/var/lib/camnet camnet
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/camnet
COPY pyproject.toml README.md ./
COPY src ./src
RUN python3 -m venv /opt/camnet/.venv \
 && /opt/camnet/.venv/bin/pip install --no-cache-dir . \
 && useradd --system --home-dir /var/lib/camnet --shell /usr/sbin/nologin camnet \
 && mkdir -p /var/lib/camnet && chown camnet:camnet /var/lib/camnet

USER camnet
ENV CAMNET_DATA_DIR=/var/lib/camnet \
    CAMNET_API_ADDR=0.0.0.0:8080
VOLUME /var/lib/camnet
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s \
  CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=4)"]
CMD ["/opt/camnet/.venv/bin/camnet", "serve"]
