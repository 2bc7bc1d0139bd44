"""How a stored or proxied file is served back to a browser: only media a browser cannot run is
shown inline; everything else is a download that the browser may neither sniff nor script."""

from urllib.parse import quote

# Raster images, audio and video: a browser renders them without running anything. SVG is an
# image that can carry script, so it is not here.
INLINE_TYPES = frozenset({
    "image/jpeg", "image/png", "image/gif", "image/webp",
    "audio/aac", "audio/amr", "audio/mp4", "audio/mpeg", "audio/ogg", "audio/opus", "audio/wav",
    "video/mp4", "video/3gpp", "video/webm",
})  # fmt: skip
SANDBOX_CSP = "default-src 'none'; sandbox"


def essence(content_type: str) -> str:
    """`Text/HTML; charset=utf-8` -> `text/html`."""
    return content_type.split(";", 1)[0].strip().lower()


def file_headers(content_type: str, filename: str | None = None) -> dict[str, str]:
    """Content-Disposition, nosniff and a sandboxing CSP for a file of this type."""
    inline = essence(content_type) in INLINE_TYPES
    disposition = "inline" if inline else "attachment"
    if filename:
        disposition += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return {
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": SANDBOX_CSP,
    }
