"""An uploaded PDF checked once for every place that stores one (a signed contract, a proposal's attachment)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from matchmaker.errors import InvalidInput

MAX_PDF_BYTES = 20 * 1024 * 1024   # a scanned contract of some fifty pages


@dataclass(frozen=True)
class CheckedPdf:
    filename: str   # safe to store and to offer back as a download name
    sha256: str
    size: int


def checked_pdf(content: bytes, filename: str | None, *, field: str, default_name: str, not_pdf: str,
                too_big: str) -> CheckedPdf:
    """Refuse what is not a PDF or is too big, next to `field`, in the caller's words (`too_big` may hold {mb})."""
    if not content.startswith(b"%PDF-"):
        raise InvalidInput.on(field, not_pdf)
    if len(content) > MAX_PDF_BYTES:
        raise InvalidInput.on(field, too_big.format(mb=MAX_PDF_BYTES // 1024 // 1024))
    # No path separators: the name comes back in a Content-Disposition header and in archive listings.
    name = (filename or default_name).replace("/", "_").replace("\\", "_")[-200:]
    return CheckedPdf(name, hashlib.sha256(content).hexdigest(), len(content))
