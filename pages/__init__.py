"""Pages: every page and file of the public site, planned and worded in French from the indicators."""
