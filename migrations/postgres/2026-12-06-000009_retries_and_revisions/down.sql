ALTER TABLE estates DROP COLUMN revision;
DROP TABLE idempotency_keys;
