"""Scoring a model on a dataset through the separation pipeline users get (BSS-Eval, reports)."""
