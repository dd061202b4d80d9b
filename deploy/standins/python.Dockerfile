# Stand-in for python:3.12.8-slim-bookworm where no container registry is reachable:
# Debian's Python 3.11 at the official image's paths (/usr/local/bin/python and pip).
ARG BASE=fila-standin/debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip python3-venv \
 && rm -rf /var/lib/apt/lists/* /usr/lib/python3.11/EXTERNALLY-MANAGED \
 && ln -s /usr/bin/python3 /usr/local/bin/python \
 && ln -s /usr/bin/pip3 /usr/local/bin/pip
CMD ["python3"]
