"""Receive: partners' inbox folders, pulled sources, withdrawal requests, where each file is filed away."""
