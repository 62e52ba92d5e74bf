"""Every error of the queue engine derives from QueueError."""


class QueueError(Exception):
    """Base of the queue engine's errors."""


class NotInQueue(QueueError):
    """The customer has no place in this assignment's queue."""


class HeldByOther(QueueError):
    """Someone else holds the customer."""

    def __init__(self, holder_user_id: int) -> None:
        super().__init__(f"held by user {holder_user_id}")
        self.holder_user_id = holder_user_id


class NotHolder(QueueError):
    """The caller's lease has expired, was force-released, or never existed (rule 18)."""

    def __init__(self, holder_user_id: int | None, receipt: str = "") -> None:
        super().__init__("you do not hold this customer")
        self.holder_user_id = holder_user_id
        # What the write that settled this lease left (AssignmentQueue.settle), or "".
        self.receipt = receipt
