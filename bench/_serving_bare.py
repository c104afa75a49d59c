"""The floor of the HTTP stack: one Starlette route that parses JSON and calls ``predict``.

No validation, no logging, no metrics: ``{"data": [[20 floats], ...]}`` in,
``{"predictions": [...]}`` out. Served by uvicorn (or granian) with the same worker count
as Steward.
"""

from __future__ import annotations

import json

import numpy as np
from _serving_model import fitted
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MODEL = fitted(frame=False)


async def predict(request: Request) -> JSONResponse:
    body = json.loads(await request.body())
    return JSONResponse({"predictions": MODEL.predict(np.asarray(body["data"], dtype=np.float64)).tolist()})


app = Starlette(routes=[Route("/predict", predict, methods=["POST"])])
