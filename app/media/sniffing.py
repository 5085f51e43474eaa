"""What a file is, decided by its first bytes: never by its name or its declared type."""

from dataclasses import dataclass

HEAD_BYTES = 4096


@dataclass(frozen=True)
class Sniffed:
    kind: str  # image, video, audio, document, file
    mime_type: str
    extension: str
    pillow_format: str | None = None  # the only format Pillow may open it as


class ActiveContent(Exception):
    """Markup a browser would run (HTML, SVG, XML): never stored."""

    def __init__(self, mime_type: str) -> None:
        super().__init__(mime_type)
        self.mime_type = mime_type


IMAGE = {
    "JPEG": Sniffed("image", "image/jpeg", "jpg", "JPEG"),
    "PNG": Sniffed("image", "image/png", "png", "PNG"),
    "GIF": Sniffed("image", "image/gif", "gif", "GIF"),
    "WEBP": Sniffed("image", "image/webp", "webp", "WEBP"),
    "BMP": Sniffed("image", "image/bmp", "bmp", "BMP"),
    "TIFF": Sniffed("image", "image/tiff", "tif", "TIFF"),
}
PILLOW_FORMAT_OF = {sniffed.mime_type: name for name, sniffed in IMAGE.items()}
PDF = Sniffed("document", "application/pdf", "pdf")
TEXT = Sniffed("document", "text/plain", "txt")
OCTET_STREAM = Sniffed("file", "application/octet-stream", "bin")
# Containers whose members we do not open; the client's extension is kept when it is one of these.
ZIP_EXTENSIONS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "epub": "application/epub+zip",
}
TEXT_EXTENSIONS = {"txt": "text/plain", "csv": "text/csv", "md": "text/markdown"}
MARKUP_OPENINGS = (b"<", b"\xef\xbb\xbf<")


def sniff(head: bytes, client_extension: str = "") -> Sniffed:
    """Classify `head` (the first bytes of the file); raise `ActiveContent` for markup."""
    image = _sniff_image(head)
    if image is not None:
        return image
    media = _sniff_audio_video(head)
    if media is not None:
        return media
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        if client_extension in ZIP_EXTENSIONS:
            mime = ZIP_EXTENSIONS[client_extension]
            return Sniffed("document", mime, client_extension)
        return Sniffed("file", "application/zip", "zip")
    if _is_text(head):
        if _is_markup(head):
            raise ActiveContent("text/html" if b"html" in head[:512].lower() else "image/svg+xml")
        extension = client_extension if client_extension in TEXT_EXTENSIONS else "txt"
        return Sniffed("document", TEXT_EXTENSIONS[extension], extension)
    return OCTET_STREAM


def _sniff_image(head: bytes) -> Sniffed | None:
    if head.startswith(b"\xff\xd8\xff"):
        return IMAGE["JPEG"]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return IMAGE["PNG"]
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return IMAGE["GIF"]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return IMAGE["WEBP"]
    if head[:2] == b"BM" and len(head) >= 26:
        return IMAGE["BMP"]
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return IMAGE["TIFF"]
    return None


def _sniff_audio_video(head: bytes) -> Sniffed | None:
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return Sniffed("audio", "audio/mp4", "m4a")
        if brand == b"qt  ":
            return Sniffed("video", "video/quicktime", "mov")
        return Sniffed("video", "video/mp4", "mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video", "video/webm", "webm")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return Sniffed("video", "video/x-msvideo", "avi")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Sniffed("audio", "audio/wav", "wav")
    if head.startswith(b"OggS"):
        return Sniffed("audio", "audio/ogg", "ogg")
    if head.startswith(b"fLaC"):
        return Sniffed("audio", "audio/flac", "flac")
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return Sniffed("audio", "audio/mpeg", "mp3")
    return None


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the end of the sample is still text.
        return error.start >= len(head) - 3 and error.reason == "unexpected end of data"
    return True


def _is_markup(head: bytes) -> bool:
    opening = head.lstrip(b" \t\r\n")
    lowered = head[:1024].lower()
    return opening.startswith(MARKUP_OPENINGS) or any(
        tag in lowered for tag in (b"<script", b"<svg", b"<html", b"<!doctype html", b"<iframe")
    )
