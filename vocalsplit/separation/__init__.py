"""Chunk planner, masks and the streaming separation pipeline."""
