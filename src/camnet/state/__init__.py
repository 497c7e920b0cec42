"""Typed device state: the schema every variable is declared in, and value coercion."""
