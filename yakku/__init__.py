"""Yakku: an open flash-sale platform. The core package holds factories, config and the CLI."""

from yakku.factory import create_api_app, create_web_app

__all__ = ["create_api_app", "create_web_app"]
