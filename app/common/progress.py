"""A text progress bar for long commands, with no dependency.

On a terminal it is one line redrawn in place (`\\r`); written to a file or a pipe, each step is
a line of its own, so logs stay readable.
"""

from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO, width: int = 20) -> None:
        self.label = label
        self.total = max(total, 1)
        self.stream = stream
        self.width = width
        self.done = 0
        self.interactive = stream.isatty()
        self._line_open = False
        if self.interactive:
            self._draw()

    def advance(self) -> None:
        self.done = min(self.done + 1, self.total)
        self._draw()

    def close(self) -> None:
        """End the redrawn line (also when stopping early, so that an error starts afresh)."""
        if self._line_open:
            self.stream.write("\n")
            self.stream.flush()
            self._line_open = False

    def line(self) -> str:
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        return f"{self.label} [{bar}] {self.done}/{self.total}"

    def _draw(self) -> None:
        if self.interactive:
            self.stream.write(f"\r{self.line()}")
            self._line_open = True
            if self.done == self.total:
                self.close()
        else:
            self.stream.write(f"{self.line()}\n")
        self.stream.flush()
