"""Tests of the versioning engine."""
