#!/bin/bash
# O loop da apostila: lê linhas chave,valor de um arquivo e envia cada uma com curl para /set.
# Uso: scripts/carga.sh [dados.csv]   (FILA_URL troca http://localhost:5000)
# `fila load dados.csv` faz o mesmo, numa requisição a cada 10.000 linhas.
#
# Mais seguro que o da apostila: aceita um arquivo salvo no Windows (linhas terminadas em CR LF),
# codifica a chave e o valor na URL (espaços, acentos, vírgulas), para na primeira linha que o
# fila recusar (com a razão) e termina com código diferente de 0 quando algo não foi gravado.
set -u

arquivo="${1:-dados.csv}"
url="${FILA_URL:-http://localhost:5000}"

# Codifica um texto para um pedaço de URL (cada byte fora de [A-Za-z0-9.~_-] vira %XX).
codifica() {
    local LC_ALL=C texto="$1" i c saida=""
    for ((i = 0; i < ${#texto}; i++)); do
        c="${texto:i:1}"
        case "$c" in
            [a-zA-Z0-9.~_-]) saida+="$c" ;;
            *) saida+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$saida"
}

[ -r "$arquivo" ] || { echo "Erro: não consigo ler $arquivo" >&2; exit 2; }
gravadas=0
# Lê cada linha do arquivo CSV (a última também, mesmo sem quebra de linha no fim)
while IFS=, read -r chave valor || [ -n "$chave" ]; do
    chave="${chave%$'\r'}"
    valor="${valor%$'\r'}"
    [ -n "$chave$valor" ] || continue
    # Envia a chave e o valor para o Redis usando curl (--fail-with-body: uma recusa do fila é um erro, com a razão)
    if ! resposta=$(curl -sS --fail-with-body "$url/set/$(codifica "$chave")/$(codifica "$valor")" 2>&1); then
        echo "Erro na linha '$chave,$valor': $resposta" >&2
        echo "$gravadas linha(s) gravada(s) antes do erro." >&2
        exit 1
    fi
    echo "$resposta Inserido $chave: $valor"
    gravadas=$((gravadas + 1))
done < "$arquivo"
echo "$gravadas linha(s) gravada(s)."
