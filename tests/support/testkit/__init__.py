"""Helpers shared by the tests (on pytest's `pythonpath`; test modules never import each other)."""
