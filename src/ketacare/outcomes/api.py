"""The outcomes API."""

from ninja import Router

router = Router(tags=["outcomes"])
