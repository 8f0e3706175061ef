"""Routes that take or give files (a PDF, a workbook, CSV): Litestar documents neither a raw `body: bytes` nor a
`Response[bytes]`'s media types, so these operation classes say them in the spec (schemathesis checks that every
answer's Content-Type is a documented one)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, RequestBody, Schema

from matchmaker.api.body_guard import XLSX

__all__ = ["CSV", "PDF", "XLSX", "gives", "takes"]
PDF = "application/pdf"
CSV = "text/csv"


def _binary(description: str) -> OpenAPIMediaType:
    return OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format="binary", description=description))


def takes(description: str, **media: str):
    """An operation whose body is one of these files: {media type: what it holds}."""
    @dataclass
    class TakesFile(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(required=True, description=description,
                                            content={_media(k): _binary(text) for k, text in media.items()})
    return TakesFile


def gives(*, keep_json: bool = False, **media: str):
    """An operation whose 200 is one of these files (besides its JSON, with keep_json)."""
    @dataclass
    class GivesFile(Operation):
        def __post_init__(self) -> None:
            ok = (self.responses or {}).get("200")
            if isinstance(ok, OpenAPIResponse):
                content = dict(ok.content or {}) if keep_json else {}
                content.update({_media(k): _binary(text) for k, text in media.items()})
                ok.content = content
    return GivesFile


def _media(key: str) -> str:
    return {"xlsx": XLSX, "pdf": PDF, "csv": CSV}.get(key, key)
