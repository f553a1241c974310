"""The screening API."""

from ninja import Router

router = Router(tags=["screening"])
