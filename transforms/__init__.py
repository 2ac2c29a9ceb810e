"""Indicators computed from the warehouse with pandas: plain functions, no I/O of their own
except ``site_data`` which reads the warehouse and assembles what the site shows."""
