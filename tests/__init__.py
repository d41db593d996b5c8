"""Passerelle test suites (a package: medspacy-quickumls installs a top-level ``tests`` of its own)."""
