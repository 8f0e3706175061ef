"""matchmaker: technology-transfer matchmaking platform and market simulator."""

__version__ = "0.1.0"
