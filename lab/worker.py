"""O laço de worker da apostila (BRPOP), numa lista só dele, `tarefas`, e não a `fila`.

Os workers do fila tiram as mensagens da lista `fila` antes deste laço; por isso ele escuta
`tarefas`. Mande mensagens com `curl http://localhost:5000/push/tarefas/oi`. O `make dev` roda
este arquivo e o roda de novo a cada gravação.
"""

from lab import db

LISTA = "tarefas"  # a apostila usa "fila": lá ela é só sua; aqui a `fila` é dos workers do fila

# Enviando mensagens para a lista
db.lpush(LISTA, "mensagem 1")
db.lpush(LISTA, "mensagem 2")

# Processando mensagens da lista
while True:
    mensagem = db.brpop(LISTA, 5)  # Aguarda 5 segundos por uma mensagem
    if mensagem:
        print("Mensagem recebida:", mensagem[1])
    else:
        print("Nenhuma mensagem nova.")
        # A apostila para aqui (break). No make dev o laço continua esperando: apague esta
        # linha e descomente o break para ver o script terminar.
        # break
