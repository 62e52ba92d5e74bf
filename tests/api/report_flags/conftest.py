from tests.api.corrections.desk import desk

__all__ = ["desk"]
