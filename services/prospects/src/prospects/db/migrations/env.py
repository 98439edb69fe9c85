from nyprod_kit.migrations import run_migrations_in_env

run_migrations_in_env()
