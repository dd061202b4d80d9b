# Stand-in for redis:7.4.2-alpine: Debian's redis-server and redis-tools (7.0), in /data.
ARG BASE=fila-standin/debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data
WORKDIR /data
EXPOSE 6379
CMD ["redis-server"]
