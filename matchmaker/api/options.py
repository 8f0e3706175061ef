"""OPTIONS answered with every method of the path.

Litestar's automatic OPTIONS handler lists the methods of the route as it stood when the handler was made, so a
path whose handlers were registered in two steps (GET and PATCH of /achievements/{id}) answered `Allow: GET,
OPTIONS`. The app's route table is complete, so the answer is built from it.
"""

from __future__ import annotations

from functools import cache

from litestar import Litestar, Request, Response
from litestar.routes import HTTPRoute


def answer_options(request: Request) -> Response:
    methods = _methods_by_path(request.app).get(request.scope.get("path_template", ""), frozenset({"OPTIONS"}))
    return Response(content=None, status_code=204, headers={"Allow": ", ".join(sorted(methods))})


@cache
def _methods_by_path(app: Litestar) -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):   # a template may be known by both spellings ({id} and {id:int})
            for key in (route.path, route.path_format):
                table.setdefault(key, set()).update(route.methods)
    return {key: frozenset(methods) for key, methods in table.items()}
