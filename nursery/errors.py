class ServiceError(Exception):
    """A rule said no. The message is shown to the user as it is, so write it for them."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
