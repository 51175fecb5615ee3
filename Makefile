# The two set-up commands of the README, plus a few conveniences.
.PHONY: run test ci bench clean

run:  ## Run Genesys with demo data: web, workers, scheduler, dashboards (Ctrl-C stops)
	./scripts/run

test:  ## Run the whole test suite (PostgreSQL if DATABASE_URL is set, SQLite otherwise)
	./scripts/test

ci:  ## What CI runs: the suite on PostgreSQL and on SQLite, and the migrations check
	./.ci/run

clean:  ## Remove local state (SQLite database, generated secrets, static files); keeps .venv
	rm -rf var
