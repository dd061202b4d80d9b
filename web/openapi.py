"""The OpenAPI 3.1 document, built from what the code declares: each view's route, policy and docstring.

A view documents its operation in its docstring, as YAML after a `---` line (apispec's and
flasgger's convention): its first line is the summary, the text before `---` the description,
the YAML the operation (tags, parameters, requestBody, responses); a view that serves several
methods keys the YAML by method. The rest comes from elsewhere, once:

- the path from the URL rule, the operationId from the endpoint;
- who may call it (security) and the 401, 403, 429 and 507 it may then answer from its `@policy`;
- the schemas, responses and parameters the operations refer to, the tags and the document's
  info from web/openapi.yaml, and the error codes from web.errors.CODES.

`problems(app)` names each route that is not documented and each path parameter an operation
does not declare or declares wrongly (tests/web/test_openapi.py fails on any).
"""

from __future__ import annotations

import inspect
import re
from importlib.resources import files
from typing import Any

import yaml
from flask import Flask

from web.access import Access, Limit, policy_table
from web.errors import CODES

#: The methods a view's YAML may be keyed by, in the order the reference page lists them.
METHODS = ("get", "head", "post", "put", "delete", "options")
#: Blueprints whose views need not document themselves (a student's routes, in the lab).
UNDOCUMENTED_OK: frozenset[str] = frozenset({"lab"})


def path_of(rule: str) -> str:
    """Turn a Flask rule (`/api/dead/<message_id>`) into an OpenAPI path (`/api/dead/{message_id}`)."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def parse_docstring(doc: str) -> tuple[str, str, dict[str, Any] | None]:
    """Split a view's docstring into its summary, its description and its operation(s) (the YAML after `---`)."""
    text, marker, block = doc.partition("\n---\n")
    summary, _, description = text.strip().partition("\n")
    operations = yaml.safe_load(block) if marker else None
    return summary.strip(), description.strip(), operations


def _operations(app: Flask, problems: list[str], components: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the document's paths: one operation per route and method, from each view's docstring."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue  # Flask's own view: web/openapi.yaml documents it
        view = app.view_functions[rule.endpoint]
        summary, description, declared = parse_docstring(inspect.getdoc(view) or rule.endpoint)
        served = sorted((method.lower() for method in (rule.methods or set()) - {"OPTIONS", "HEAD"}),
                        key=METHODS.index)
        path = path_of(rule.rule)
        strict = rule.endpoint.partition(".")[0] not in UNDOCUMENTED_OK
        if declared is None:
            # Undocumented (a student's route may be): its summary alone, and an answer.
            parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                          for name in sorted(rule.arguments)]
            tags = [] if strict else [rule.endpoint.partition(".")[0]]
            by_method = {method: {"tags": tags, "parameters": parameters, "responses": {"200": {"description": "OK"}}}
                         for method in served}
            if strict:
                problems += [f"{method.upper()} {path} ({rule.endpoint}): not documented: put the operation in its "
                             "view's docstring, after a --- line" for method in served]
        elif isinstance(declared, dict) and declared and set(declared) <= set(METHODS):
            by_method = declared
        else:
            by_method = {served[0]: declared} if len(served) == 1 else {}
            if len(served) > 1:
                problems.append(f"{rule.endpoint}: serves {', '.join(m.upper() for m in served)}; key its YAML "
                                "by method")
        for method in served:
            if method not in by_method:
                problems.append(f"{method.upper()} {path} ({rule.endpoint}): not documented")
        for method, given in by_method.items():
            operation: dict[str, Any] = dict(given or {})
            if not operation.get("responses"):
                problems.append(f"{method.upper()} {path} ({rule.endpoint}): documents no responses")
                operation["responses"] = {"200": {"description": "OK"}}
            resolved = [_resolve(parameter, components) for parameter in operation.get("parameters", [])]
            declared_parameters = {parameter["name"] for parameter in resolved if parameter.get("in") == "path"}
            for missing in sorted(set(rule.arguments) - declared_parameters if declared is not None else ()):
                problems.append(f"{method.upper()} {path} ({rule.endpoint}): path parameter {missing!r} "
                                "is not declared")
            for extra in sorted(declared_parameters - set(rule.arguments)):
                problems.append(f"{method.upper()} {path} ({rule.endpoint}): declares a path parameter {extra!r} "
                                "the route does not have")
            several = len(by_method) > 1
            if method in paths.get(path, {}):
                continue  # a route of the same address came first (a lab route over fila's): the one served
            paths.setdefault(path, {})[method] = {
                "summary": summary, **({"description": description} if description else {}),
                "operationId": rule.endpoint.replace(".", "_") + (f"_{method}" if several else ""), **operation}
    return paths


def _resolve(node: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Follow a `#/components/...` reference (one level is all the document uses)."""
    ref = node.get("$ref", "")
    if not ref.startswith("#/components/"):
        return node
    kind, _, name = ref.removeprefix("#/components/").partition("/")
    found: dict[str, Any] = components.get(kind, {}).get(name, {})
    return found


def build(app: Flask, problems: list[str] | None = None) -> dict[str, Any]:
    """Return the app's OpenAPI document (with the problems found, when a list is given)."""
    spec: dict[str, Any] = yaml.safe_load(files("web").joinpath("openapi.yaml").read_text(encoding="utf-8"))
    code = spec["components"]["schemas"]["ErrorCode"]
    code["enum"] = list(CODES)
    code["x-codes"] = dict(CODES)
    found: list[str] = []
    spec["paths"] = {**_operations(app, found, spec["components"]), **spec.get("paths", {})}
    _document_access(app, spec)
    if problems is not None:
        problems.extend(found)
    return spec


def problems(app: Flask) -> list[str]:
    """Name what the app's routes leave undocumented (an empty list when the document is whole)."""
    found: list[str] = []
    build(app, found)
    return found


def _document_access(app: Flask, spec: dict[str, Any]) -> None:
    """Add each operation's access, from its view's policy: who may call it, and the refusals that brings."""
    refused = {"$ref": "#/components/responses/Refused"}
    table = policy_table(app)
    for rule in app.url_map.iter_rules():
        access, limit = table[rule.endpoint]
        for method in (rule.methods or set()) - {"OPTIONS"}:
            operation = spec["paths"].get(path_of(rule.rule), {}).get(method.lower())
            if operation is None:
                continue  # problems() reports it
            responses = operation["responses"]
            operation["x-access"] = access.value
            if access is Access.PRODUCER:
                operation["security"] = [{}, {"bearer": []}, {"session": []}]
                responses.setdefault("401", refused)
            elif access is Access.ADMIN:
                operation["security"] = [{"bearer": []}, {"session": []}]
                responses.setdefault("401", refused)
            if limit is not Limit.NONE:
                responses.setdefault("429", {"$ref": "#/components/responses/TooMany"})
            if method in {"POST", "PUT", "DELETE", "PATCH"}:
                responses.setdefault("403", refused)
            if "503" in responses:  # a route that reaches Redis may meet it full
                responses.setdefault("507", {"$ref": "#/components/responses/Full"})
