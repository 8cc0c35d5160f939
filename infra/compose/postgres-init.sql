-- Mounted by docker-compose.yml into /docker-entrypoint-initdb.d/ of the postgres service.
-- The image runs it once, as the superuser `postgres`, when the data volume is empty.
-- It sets up what infra/services.py ensure_databases() sets up on the native cluster:
-- the login role `cinema` (password `cinema`) owning the databases `cinema` (the app's
-- default DATABASE_URL) and `cinema_test` (the tests' default, see tests/conftest.py).

CREATE ROLE cinema LOGIN PASSWORD 'cinema';
CREATE DATABASE cinema OWNER cinema;
CREATE DATABASE cinema_test OWNER cinema;
