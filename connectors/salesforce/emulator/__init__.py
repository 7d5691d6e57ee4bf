"""A local emulator of the Salesforce REST API (v62.0), served as a plain WSGI app.

``make_app(seed=42, clients=50)`` seeds it with the Salesforce copies of the demo generator's records.
"""

from connectors.salesforce.emulator.app import Emulator, make_app
from connectors.salesforce.emulator.faults import FAULT_KINDS, Faults
from connectors.salesforce.emulator.store import ApiError, Store

__all__ = ["FAULT_KINDS", "ApiError", "Emulator", "Faults", "Store", "make_app"]
