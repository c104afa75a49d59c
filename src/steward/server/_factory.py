"""Uvicorn factory target: ``uvicorn steward.server._factory:app --factory``."""

from __future__ import annotations

from fastapi import FastAPI

from ._app import create_app


def app() -> FastAPI:
    return create_app()
