"""Go-lives and expiries, to the second: the database is the truth, beat arms, workers claim."""
