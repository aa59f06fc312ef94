"""Exceptions the engine raises; each carries a stable machine-readable code."""


class EngineError(Exception):
    """Base class for engine errors with a stable `code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ImageRejected(EngineError):
    """The uploaded bytes are not an image the engine accepts."""


class EngineUnavailable(EngineError):
    """The engine cannot run (landmark model missing or corrupt); retry later."""
