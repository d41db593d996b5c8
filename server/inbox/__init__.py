"""The durable inbox of received HL7 v2 messages: accept (dedup, ack), claim, process.

Every channel (MLLP, ``passerelle ingest``) stores the raw bytes here and commits them
before it acknowledges; workers then map and store each message exactly once.
"""
