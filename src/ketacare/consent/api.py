"""The consent API."""

from ninja import Router

router = Router(tags=["consent"])
