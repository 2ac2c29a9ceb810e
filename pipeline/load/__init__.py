"""Load: the warehouse (accepted rows) and the ledger (every file received)."""
