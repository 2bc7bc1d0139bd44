"""HTTP routes of the ingest service."""

from fastapi import APIRouter

router = APIRouter(tags=["ingest"])
