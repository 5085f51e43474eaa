"""What an import did, as a table on stdout; and its progress (objects and bytes) on stderr."""

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

from app.importer.records import KINDS
from app.media.naming import human_readable_size

OUTCOMES = ("created", "updated", "unchanged", "conflicts", "failed")


@dataclass
class ImportReport:
    source: str
    dry_run: bool = False
    counts: dict[str, Counter[str]] = field(
        default_factory=lambda: {outcome: Counter() for outcome in OUTCOMES}
    )
    problems: list[str] = field(default_factory=list)  # one line per conflict or failure
    files: int = 0
    bytes: int = 0
    stale: dict[str, list[int]] = field(default_factory=dict)  # not on the original any more
    pruned: Counter[str] = field(default_factory=Counter)

    def count(self, outcome: str, kind: str) -> None:
        self.counts[outcome][kind] += 1

    def problem(self, outcome: str, kind: str, object_id: int, label: str, why: str) -> None:
        self.count(outcome, kind)
        word = "conflict" if outcome == "conflicts" else "failed"
        self.problems.append(f"{word}: {kind} {object_id} ({label!r}): {why}")

    @property
    def written(self) -> int:
        return sum(self.counts["created"].values()) + sum(self.counts["updated"].values())

    @property
    def not_imported(self) -> int:
        return sum(self.counts["conflicts"].values()) + sum(self.counts["failed"].values())

    def summary(self) -> dict[str, object]:
        """The counts, as the `import.completed` event carries them."""
        return {
            "source": self.source,
            **{outcome: dict(self.counts[outcome]) for outcome in OUTCOMES},
            "files": self.files,
            "bytes": self.bytes,
            "pruned": dict(self.pruned),
        }

    def lines(self) -> list[str]:
        head = f"{'kind':<10}" + "".join(f"{outcome:>11}" for outcome in OUTCOMES)
        rows = [
            f"{kind:<10}" + "".join(f"{self.counts[o][kind]:>11}" for o in OUTCOMES)
            for kind in KINDS
        ]
        verb = "to download" if self.dry_run else "downloaded"
        lines = [
            *(["dry run: nothing was written"] if self.dry_run else []),
            head,
            *rows,
            f"files: {self.files} {verb}, {human_readable_size(self.bytes)}",
        ]
        for kind, ids in self.stale.items():
            if self.pruned[kind]:
                lines.append(
                    f"{kind}: {self.pruned[kind]} no longer on the original, moved to the trash"
                )
            elif ids:
                shown = ", ".join(str(pk) for pk in ids[:20]) + (" ..." if len(ids) > 20 else "")
                lines.append(
                    f"{kind}: {len(ids)} no longer on the original (ids {shown}): "
                    "kept; --prune moves them to the trash"
                )
        if not self.written and not self.not_imported and not self.dry_run:
            lines.append("nothing new: everything on the original was already imported")
        return lines


class ImportProgress:
    """One line on a terminal, redrawn in place; elsewhere a line every few seconds and one at
    the end of each stage (nothing for a stage that fails: its error is the line to read)."""

    EVERY = 5.0  # seconds between lines when stderr is not a terminal

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.interactive = bool(stream and stream.isatty())
        self.phase = ""
        self.objects = self.total_objects = 0
        self.bytes = self.total_bytes = 0
        self._shown_at = time.monotonic()

    def start(self, phase: str, total_objects: int = 0, total_bytes: int = 0) -> None:
        self.phase = phase
        self.objects, self.total_objects = 0, total_objects
        self.bytes, self.total_bytes = 0, total_bytes
        self._shown_at = time.monotonic()
        if self.interactive:
            self._write(f"\r\x1b[K{self.line()}")

    def advance(self, objects: int = 0, received: int = 0) -> None:
        self.objects += objects
        self.bytes += received
        now = time.monotonic()
        if self.interactive and now - self._shown_at > 0.1:
            self._write(f"\r\x1b[K{self.line()}")
        elif not self.interactive and now - self._shown_at > self.EVERY:
            self._write(f"{self.line()}\n")
        else:
            return
        self._shown_at = now

    def finish(self) -> None:
        """The stage's last line."""
        if self.phase:
            self._write(f"\r\x1b[K{self.line()}\n" if self.interactive else f"{self.line()}\n")
        self.phase = ""

    def close(self) -> None:
        """End a redrawn line left open by a stage that did not finish."""
        if self.phase and self.interactive:
            self._write("\n")
        self.phase = ""

    def line(self) -> str:
        objects = (
            f"{self.objects}/{self.total_objects}" if self.total_objects else f"{self.objects}"
        )
        line = f"{self.phase}: {objects} objects"
        if self.total_bytes:
            line += (
                f", {human_readable_size(self.bytes)} of {human_readable_size(self.total_bytes)}"
            )
        return line

    def _write(self, text: str) -> None:
        if self.stream is not None:
            self.stream.write(text)
            self.stream.flush()
