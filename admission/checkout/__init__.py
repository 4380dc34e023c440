"""The sale's checkout saga, in one package: records -> line -> steps -> drain, reconcile -> jobs -> shopper.

docs/architecture.md follows one checkout through these modules; each module's docstring says its part.
"""
