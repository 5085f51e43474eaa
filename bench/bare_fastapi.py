"""A reference for `make bench` (bench.api_load): FastAPI as a tutorial writes it, with the
service's `GET /healthz` alone, to tell what the service adds to FastAPI's own fixed cost of a
request (its middleware, dependencies, error handling, metrics).

The route is the service's (app/health/router.py): the same Pydantic return type and the same
body, `{"status":"ok"}`. Nothing else: no middleware, no dependencies, no database, FastAPI's
defaults otherwise (its documentation routes included, as `FastAPI()` makes them).

    .venv/bin/python -m uvicorn bench.bare_fastapi:app --port 8101 --workers 1 \\
        --loop uvloop --http httptools --no-access-log --no-proxy-headers

(bench.server.uvicorn_process serves it so: as `portfolio-api serve` runs, one worker.) Not
shipped in the package (only `app` is).
"""

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Status(BaseModel):
    status: str


@app.get("/healthz")
async def check_health() -> Status:
    return Status(status="ok")
