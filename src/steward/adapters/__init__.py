"""Adapters: the storage (SQL, artifacts) implementations of the stages' ports."""
