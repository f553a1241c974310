"""The scheduling API."""

from ninja import Router

router = Router(tags=["scheduling"])
