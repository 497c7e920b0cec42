"""Faces: one package per dialect, translating its wire format to calls on the services."""
