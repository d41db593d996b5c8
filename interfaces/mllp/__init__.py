"""MLLP (HL7 v2 Minimal Lower Layer Protocol): framing, the asyncio listener, a client."""
