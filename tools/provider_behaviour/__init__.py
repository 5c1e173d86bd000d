"""Reading the Terraform providers' Go source for tools/refresh_provider_behaviour.py: a Go
lexer and parser (golex, goparse, goast), a small evaluator of schema code (goeval), the
validator reader (validators) and the schema reader (extract); source.py reads checkouts."""
