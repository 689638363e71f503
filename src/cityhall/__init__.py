"""cityhall: the digital city hall of Ho Chi Minh City."""

__version__ = "0.1.0"
