"""Both ends of the wire: batch format, uploader and central server (sync issue)."""
