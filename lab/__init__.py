"""O laboratório: o seu código ao lado do fila (as rotas em app.py, os scripts worker.py e setex.py).

    from lab import app, db

`app` aceita `@app.route(...)` como o `app` da apostila: o fila serve a rota (no `make dev`, a
cada gravação do arquivo, sem reiniciar nada). `db` é o Redis que o fila usa (o do `make run`,
ou o do REDIS_URL), e responde bytes como o `redis.Redis(...)` da apostila.
"""

from shared.lab import LabApp, LazyRedis

app = LabApp()
db = LazyRedis()

__all__ = ["app", "db"]
