"""Suas rotas: cole aqui os trechos da apostila (`@app.route(...)`); o `make dev` recarrega a cada gravação.

Cada rota fica aberta a todos, com o limite de escritas do fila (RATE_LIMIT_WRITES); uma rota
sua com o mesmo endereço de uma rota do fila (por exemplo `/sobre`) substitui a dele, e o log
avisa. Se algo der errado aqui, o log (e a página, no `make dev`) diz o arquivo, a linha e o
erro; o resto do fila continua no ar.
"""

import time

from lab import app, db


@app.route('/lab')
def lab():
    """Diz que o laboratório está no ar e conta as visitas (INCR, como a rota / da apostila)."""
    inicio = time.time()
    visitas = db.incr('lab:visitas')
    app.logger.info(f'Visitas ao laboratório: {visitas}')
    tempo = time.time() - inicio
    return f'Laboratório no ar: {visitas} visita(s). Edite lab/app.py.\nTempo de resposta: {tempo:.6f} segundos'


# Cole suas rotas abaixo. Exemplo da apostila:
#
# @app.route('/inicio')
# def inicio():
#     return "Página Inicial"


if __name__ == '__main__':
    app.run(host='0.0.0.0', port=5000)
