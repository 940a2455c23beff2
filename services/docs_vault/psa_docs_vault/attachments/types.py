"""Which files a configuration may carry: an allow-list by extension, checked against the bytes.

The stored content type is ours, never the client's; executables are refused whatever they are
called, so a download link in the vault cannot hand a technician a disguised program.
"""

from __future__ import annotations

import posixpath
import unicodedata

OCTET = "application/octet-stream"
# extension -> the content type we serve it with
ALLOWED = {
    ".txt": "text/plain",
    ".log": "text/plain",
    ".md": "text/plain",
    ".csv": "text/csv",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    **dict.fromkeys((".lic", ".key", ".cfg", ".conf", ".ini", ".xml", ".json", ".bak", ".pem", ".crt"), OCTET),
    **dict.fromkeys((".cer", ".p12", ".pfx", ".ovpn", ".rsc"), OCTET),
}
# Declared types refused whatever the extension: programs, scripts, and pages a browser would run.
REFUSED_DECLARED = {
    "application/x-msdownload",
    "application/x-msdos-program",
    "application/vnd.microsoft.portable-executable",
    "application/x-dosexec",
    "application/x-executable",
    "application/x-elf",
    "application/x-msi",
    "application/x-sh",
    "application/x-shellscript",
    "application/x-bat",
    "application/java-archive",
    "application/javascript",
    "text/javascript",
    "text/html",
    "application/xhtml+xml",  # HTML too: browsers run its scripts
    "image/svg+xml",
    # Every other name a browser runs as JavaScript (WHATWG MIME Sniffing, "JavaScript MIME type").
    "application/ecmascript",
    "application/x-ecmascript",
    "application/x-javascript",
    "text/ecmascript",
    "text/javascript1.0",
    "text/javascript1.1",
    "text/javascript1.2",
    "text/javascript1.3",
    "text/javascript1.4",
    "text/javascript1.5",
    "text/jscript",
    "text/livescript",
    "text/x-ecmascript",
    "text/x-javascript",
}
# For the types we can recognise by their bytes, what a browser or curl may declare besides octet-stream.
DECLARED = {
    "application/pdf": {"application/pdf", "application/x-pdf"},
    "application/zip": {"application/zip", "application/x-zip-compressed"},
    "image/png": {"image/png"},
    "image/jpeg": {"image/jpeg", "image/jpg", "image/pjpeg"},
}
MAGIC = {
    "application/pdf": (b"%PDF-",),
    "application/zip": (b"PK\x03\x04", b"PK\x05\x06"),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
EXECUTABLE = (b"MZ", b"\x7fELF", b"#!", b"\xfe\xed\xfa", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
# What may precede a script's `#!` and still have it run (`sh x.lic`, an editor's BOM): until
# 2026-11-28 " #!" or a UTF-8 BOM then "#!" passed as a license file.
BEFORE_SCRIPT = b"\xef\xbb\xbf \t\r\n\f\v"


class Refused(ValueError):
    """The file is not one the vault keeps; the message says why."""


def clean_filename(raw: str | None) -> str:
    """The name to show and download under: last path component, no control characters, bounded."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C").strip()
    if set(name) <= {".", " "}:  # "." and ".." are no names
        name = ""
    if not name:
        raise Refused("the file needs a name")
    if len(name) > 200:
        raise Refused("the file name is longer than 200 characters")
    return name


def content_type_for(filename: str, declared: str | None, head: bytes) -> str:
    """Our content type for an upload, or Refused: extension allowed, declared type consistent, bytes agree."""
    # ".lic" is a name with no extension, as for the OS (until 2026-11-28 it was read as a .lic file)
    extension = posixpath.splitext(filename)[1].lower()
    ours = ALLOWED.get(extension)
    if ours is None:
        raise Refused(f"files of type {extension or '(none)'!r} are not accepted")
    declared = (declared or OCTET).split(";", 1)[0].strip().lower()
    if declared in REFUSED_DECLARED:
        raise Refused(f"content type {declared!r} is not accepted")
    # Text and device files arrive under many declared types (.key, .bak, .cfg); only the refusals apply.
    if ours in DECLARED and declared != OCTET and declared not in DECLARED[ours]:
        raise Refused(f"content type {declared!r} does not match a {extension} file")
    if head.startswith(EXECUTABLE) or head.lstrip(BEFORE_SCRIPT).startswith(b"#!"):
        raise Refused("executable files are not accepted")
    if ours in MAGIC and not head.startswith(MAGIC[ours]):
        raise Refused(f"the content is not a {extension} file")
    return ours
