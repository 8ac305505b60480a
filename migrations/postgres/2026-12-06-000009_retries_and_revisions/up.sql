-- Idempotency-Key: the first 2xx answer to a creating POST, per caller and
-- key, replayed for 24 hours to a retry with the same request. Written in
-- the transaction of the change it answers.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idem_key TEXT NOT NULL,
    request TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    location TEXT,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- The members matrix's revision (ETag / If-Match on Users & Permissions):
-- bumped in the transaction of every membership or site override change.
ALTER TABLE estates ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
