"""A local emulator of NetSuite SuiteTalk REST (token, SuiteQL, record service), seeded from the demo."""

from connectors.netsuite.emulator.app import Emulator, make_app

__all__ = ["Emulator", "make_app"]
