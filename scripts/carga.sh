#!/bin/bash
# The handout's loop: read chave,valor lines and send each with curl to /set.
# Usage: scripts/carga.sh [dados.csv]   (FILA_URL overrides http://localhost:5000)
# `python -m web.load dados.csv` does the same in one request per 10,000 lines.

arquivo="${1:-dados.csv}"
url="${FILA_URL:-http://localhost:5000}"

# Lê cada linha do arquivo CSV
while IFS=, read -r chave valor; do
    # Envia a chave e o valor para o Redis usando curl
    curl -s "$url/set/$chave/$valor"
    echo " Inserido $chave: $valor"
done < "$arquivo"
