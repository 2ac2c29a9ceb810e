"""The one error of reading a file that cannot be read at all (raised by every reader)."""


class UnreadableFile(Exception):
    """The file cannot be read at all; the message is French and meant for the partner."""
