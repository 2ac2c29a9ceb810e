"""Read: partner files in any encoding, layout or format, turned into the contract's columns."""
