"""Oracle NetSuite (SuiteTalk REST) connector: client, mapping, connector and a local emulator."""
