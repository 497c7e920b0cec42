"""Operations (issue 11): metrics, health, structured logs and their redaction, limits."""
