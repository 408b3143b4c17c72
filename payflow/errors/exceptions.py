from .codes import ErrorCode


class ApplicationError(Exception):
    """The one exception services raise for anything a client should see."""

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.code = code
        self.message = message or code.spec.description
        self.param = param
        self.headers = headers or {}
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return self.code.spec.status

    def as_body(self) -> dict:
        return {
            "error": {
                "type": str(self.code.spec.type),
                "code": str(self.code),
                "message": self.message,
                "param": self.param,
            }
        }
