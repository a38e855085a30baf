"""Prefect flows and the ``jixiao`` command line."""
