"""What every HTTP face shares below its dialect: strict JSON input and query parsing."""
