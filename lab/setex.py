"""O exemplo de SETEX da apostila: uma chave que expira sozinha. Rode: .venv/bin/python lab/setex.py

Uma mudança em relação à apostila: `db` vem de `from lab import db` (o Redis do fila), no lugar de
`redis.Redis(host='redis', ...)`, que só existe dentro do Docker. O prazo (30 s) pode vir na linha
de comando: `.venv/bin/python lab/setex.py 3`.
"""

import sys
import time

from lab import db

segundos = int(sys.argv[1]) if len(sys.argv) > 1 else 30

# Definindo uma chave com um valor e um tempo de expiração (em segundos)
db.setex("chave", segundos, "valor")

# Recuperando o valor da chave
valor = db.get("chave")
print("Valor recuperado:", valor.decode('utf-8'))  # Decodifica bytes para string

# Simulando um atraso para demonstrar a expiração
time.sleep(segundos + 1)
valor_apos_expiracao = db.get("chave")
print("Valor após expiração:", valor_apos_expiracao)  # None (já expirado)
