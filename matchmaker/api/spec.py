"""What Litestar's generated spec leaves out, added where the spec is built so it tells the truth.

- Bodies refuse unknown fields (`forbid_unknown_fields`), so their schemas say `additionalProperties: false`;
  without it a client (or schemathesis) may take `{"title": …, "x": 1}` for valid.
- Public routes declare an empty security requirement.
- OpenAPI links run from each creating operation to the operations that use the id it returns, so a client
  can follow them and stateful testing reaches the deep routes (approve, moves, contract, registration …).
"""

from __future__ import annotations

import typing

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.spec import Link, OpenAPI, Reference
from litestar.routes import HTTPRoute

# A creating operation whose new record lives under another path than its own.
_CREATED_UNDER = {"/pipelines/{pipeline_id}/contract": "/contracts"}


class CompletedOpenAPIPlugin(OpenAPIPlugin):
    """Litestar's OpenAPI plugin, completing the spec the one time it builds it: on the first request for the
    spec, not at every start (building 125 operations' spec was 0.7 s of each server start and of each test app)."""

    __slots__ = ()

    def _build_openapi(self) -> OpenAPI:
        spec = super()._build_openapi()
        complete_spec(self.app, spec)
        return spec


def build_spec_lazily(app: Litestar) -> None:
    """Swap the app's OpenAPI plugin for the completing one (Litestar makes its own; the subclass adds no state)."""
    app.plugins.get(OpenAPIPlugin).__class__ = CompletedOpenAPIPlugin


def complete_spec(app: Litestar, spec: OpenAPI) -> None:
    _forbid_unknown_fields(app, spec)
    _link_created_ids(spec)
    _declare_public(app, spec)


def _declare_public(app: Litestar, spec: OpenAPI) -> None:
    """A route excluded from authentication says so: `security: [{}]`, the empty requirement (Litestar drops
    a plain `security: []` as empty, so the operation inherited the global bearer requirement)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in (spec.paths or {}):
            continue
        item = spec.paths[route.path_format]
        for handler in route.route_handlers:
            if handler.opt.get("exclude_from_auth") and handler.resolve_include_in_schema():
                for method in handler.http_methods:
                    operation = getattr(item, method.lower(), None)
                    if operation is not None:
                        operation.security = [{}]


def _forbid_unknown_fields(app: Litestar, spec: OpenAPI) -> None:
    strict, seen = {}, set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None:
                _collect_structs(data.annotation, strict, seen)
    for name, schema in (spec.components.schemas or {}).items():
        structs = [struct for path, struct in strict.items() if _names_struct(name, path)]
        if structs:
            schema.additional_properties = False
            _bound_items(schema, structs[0])


# JSON Schema's words for the bounds Litestar leaves off a list's items, and the spec objects' names for them.
_ITEM_BOUNDS = {"minimum": "minimum", "maximum": "maximum", "exclusiveMinimum": "exclusive_minimum",
                "exclusiveMaximum": "exclusive_maximum", "minLength": "min_length", "maxLength": "max_length",
                "pattern": "pattern"}


def _bound_items(schema, struct: type) -> None:
    """Litestar documents `list[Annotated[int, Meta(ge=0, le=100)]]` as a list of plain integers; msgspec, which
    enforces the bounds, states them in its own schema of the struct: copy them onto the items."""
    own = msgspec.json.schema(struct)
    properties = own["$defs"][own["$ref"].rsplit("/", 1)[-1]].get("properties", {})
    for name, prop in (schema.properties or {}).items():
        items = getattr(prop, "items", None)
        wanted = properties.get(name, {}).get("items", {})
        for key, attribute in _ITEM_BOUNDS.items():
            if key in wanted and items is not None and hasattr(items, attribute) and getattr(items, attribute) is None:
                setattr(items, attribute, wanted[key])


def _names_struct(component: str, path: str) -> bool:
    """Whether a component schema is the struct at this dotted path. Litestar names a component after the struct,
    or, when two structs share a name (two `PaymentIn`), after the end of its module path too
    (`trading_challenge_controllers_PaymentIn`)."""
    return component == path.rsplit(".", 1)[-1] or path.replace(".", "_").endswith("_" + component)


def _collect_structs(annotation, found: dict[str, type], seen: set | None = None) -> None:
    """The structs an annotation holds, at any depth, that refuse unknown fields, by dotted path."""
    seen = set() if seen is None else seen
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        if annotation in seen:
            return
        seen.add(annotation)
        if annotation.__struct_config__.forbid_unknown_fields:
            found[f"{annotation.__module__}.{annotation.__qualname__}"] = annotation
        for hint in typing.get_type_hints(annotation).values():
            _collect_structs(hint, found, seen)
        return
    for argument in typing.get_args(annotation):
        _collect_structs(argument, found, seen)


def _link_created_ids(spec: OpenAPI) -> None:
    for path, item in (spec.paths or {}).items():
        post = item.post
        created = (post.responses or {}).get("201") if post else None
        if created is None or isinstance(created, Reference):
            continue
        base = _CREATED_UNDER.get(path, path)
        links = {}
        for target_path, target in spec.paths.items():
            if not target_path.startswith(base + "/{"):
                continue
            name = target_path[len(base) + 2:].split("}", 1)[0]
            for operation in (target.get, target.put, target.patch, target.post, target.delete):
                if operation is None or operation.operation_id is None:
                    continue
                parameters = {name: "$response.body#/id"}
                for other in _path_parameters(target_path) - {name}:
                    if other in _path_parameters(path):
                        parameters[other] = f"$request.path.{other}"
                if set(parameters) == _path_parameters(target_path):
                    links[operation.operation_id] = Link(operation_id=operation.operation_id, parameters=parameters)
        if links:
            created.links = links


def _path_parameters(path: str) -> set[str]:
    return {part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")}
