# Stand-in for prom/prometheus: Debian's prometheus (2.42) at the official image's paths
# (/bin/prometheus: /bin is /usr/bin on Debian; /etc/prometheus/prometheus.yml, data in /prometheus, user nobody).
ARG BASE=fila-standin/debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends prometheus \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /prometheus \
 && chown nobody:nogroup /prometheus
USER nobody
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
