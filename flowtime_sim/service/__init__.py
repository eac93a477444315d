"""The HTTP service and the artifacts page (SPEC §10, §11): ``create_app()`` builds the ASGI
application that ``flowtime-sim serve`` runs with uvicorn."""

from flowtime_sim.service.app import create_app

__all__ = ["create_app"]
