-- Rate limits (internal/limit): one row per limited key, updated under a
-- row lock, so a limit holds across nodes.
CREATE TABLE limits (
    key      TEXT PRIMARY KEY,
    tokens   DOUBLE PRECISION NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    at       BIGINT NOT NULL DEFAULT 0,
    seen     BIGINT NOT NULL DEFAULT 0,
    expires  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX limits_expires ON limits (expires);
