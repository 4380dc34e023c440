"""Yakku: an open flash-sale platform. The core package holds factories (yakku.factory), config, the
extensions, the queues, the launcher and the CLI.

It imports nothing itself: every area depends on the core (yakku.errors, yakku.extensions), so the core
package must not import the areas back, as the factory does.
"""
