"""Connected system kind -> connector class. A plain dict: adding a platform adds one line here."""

from connectors.base import Connector
from connectors.netsuite.connector import NetSuiteConnector
from connectors.salesforce.connector import SalesforceConnector

CONNECTORS: dict[str, type[Connector]] = {
    "salesforce": SalesforceConnector,
    "netsuite": NetSuiteConnector,
}


def connector_class(kind: str) -> type[Connector]:
    try:
        return CONNECTORS[kind]
    except KeyError:
        raise LookupError(f"no connector for systems of kind {kind!r}") from None
