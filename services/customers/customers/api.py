"""HTTP routes of the customers service."""

from fastapi import APIRouter

router = APIRouter(tags=["customers"])
