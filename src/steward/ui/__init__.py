"""Steward's web UI: server-rendered pages beside the REST API, in the same process.

:func:`install_ui` mounts it on the server's application at ``/``. Pages resolve the
caller from a signed session cookie (a login page when authentication is on), check the
REST API's permission table for the operation each page or action stands for, and call
the same service functions the REST routes call, so roles and audit rows are the API's.
Nothing is fetched from the internet: CSS, JS and plotly.js are served from the package.
"""

from __future__ import annotations

from ._app import install_ui, owns_path

__all__ = ["install_ui", "owns_path"]
