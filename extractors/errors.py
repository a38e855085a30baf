"""Errors a reader raises for a file it cannot read; the message is shown to the user as is."""


class UnreadableFile(Exception):
    """The file could not be read (corrupt, encrypted, empty, unsupported). Say what to do."""
