"""The experiments' results (`fila prove`): what a worker killed mid-batch cost, in each delivery mode."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from shared.messages import proof
from web.access import Access, policy
from web.services import services

bp = Blueprint("experiments", __name__, url_prefix="/api")


@bp.get("/experiments")
@policy(Access.ADMIN)
def results() -> Response:
    """Return the last result of each `fila prove` experiment in each delivery mode, and what it means.

    Run with `ALLOW_EXPERIMENTS=1 fila prove kill-worker|restart-redis|failover [--delivery brpop]`; `allowed`
    says whether this deployment allows it. Each result is kept 30 days.

    ---
    tags: [watch]
    responses:
      '200':
        description: The results, kill-worker's first, the reliable mode's first.
        content:
          application/json:
            schema:
              type: object
              required: [allowed, command, results]
              properties:
                allowed: {type: boolean, description: ALLOW_EXPERIMENTS.}
                command: {type: string, description: How to run one.}
                results:
                  type: array
                  maxItems: 6
                  items: {$ref: '#/components/schemas/Proof'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    built = services()
    found = sorted(proof.results(built.redis), key=lambda each: (proof.EXPERIMENTS.index(each.experiment),
                                                                 each.delivery != "reliable"))
    return jsonify({"allowed": built.settings.allow_experiments,
                    "command": "ALLOW_EXPERIMENTS=1 fila prove kill-worker|restart-redis|failover [--delivery brpop] "
                               "[--messages N]",
                    "results": [each.describe() for each in found]})
