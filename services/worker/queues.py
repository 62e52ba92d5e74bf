from enum import StrEnum


class QueueName(StrEnum):
    default = "nextcall"
