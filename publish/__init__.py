"""Publish: build the site into a fresh folder, check it, reuse unchanged pages, swap it in."""
