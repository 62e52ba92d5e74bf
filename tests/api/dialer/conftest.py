from tests.api.dialer.floor import floor

__all__ = ["floor"]
