"""Salesforce (CRM) connector: REST client, mapping, connector and a local emulator of the API."""
