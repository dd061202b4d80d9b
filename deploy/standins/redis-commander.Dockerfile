# Stand-in for ghcr.io/joeferner/redis-commander:0.9.0, laid out as the package's own Dockerfile
# lays it out (/redis-commander, user 10000, dumb-init, docker/entrypoint.sh, bin/healthcheck.js).
ARG BASE=fila-standin/debian:bookworm
FROM ${BASE}
ARG VERSION=0.9.0
ENV SERVICE_USER=redis HOME=/redis-commander NODE_ENV=production
WORKDIR /redis-commander
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm dumb-init jq \
 && rm -rf /var/lib/apt/lists/* \
 && npm pack "redis-commander@${VERSION}" \
 && tar -xzf "redis-commander-${VERSION}.tgz" --strip-components=1 \
 && rm "redis-commander-${VERSION}.tgz" \
 && npm install --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && useradd --system --uid 10000 --gid 0 --home-dir /redis-commander "${SERVICE_USER}" \
 && chown -R "${SERVICE_USER}" /redis-commander/config \
 && chmod g+w /redis-commander/config
USER 10000
HEALTHCHECK --interval=1m --timeout=2s CMD ["/redis-commander/bin/healthcheck.js"]
ENTRYPOINT ["/usr/bin/dumb-init", "--"]
CMD ["/redis-commander/docker/entrypoint.sh"]
EXPOSE 8081
