-- Webhook endpoints: an estate's (estate_id set; registered by an owner or
-- admin, who must still administer the estate for events to be queued) or
-- a user's own (estate_id null: events on assets they are a collaborator
-- of, on their household, and on their own access). The secret signs each
-- delivery (HMAC-SHA256); it is shown once, when created or rotated.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    estate_id TEXT REFERENCES estates (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    -- The actions delivered, comma separated; empty: every feed action.
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    disabled_reason TEXT,
    -- Failed attempts since the last success: at the limit the endpoint is
    -- disabled and its owner emailed.
    failures INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_estate_idx ON webhook_endpoints (estate_id, created_at, id)
    WHERE estate_id IS NOT NULL;
CREATE INDEX webhook_endpoints_owner_idx ON webhook_endpoints (owner_id, created_at, id);

-- One delivery of one event to one endpoint, queued in the transaction of
-- the change (the outbox), with its body fixed then; attempted until
-- delivered or out of attempts. A redelivery is a new row with the same
-- event and body.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_attempt_at TIMESTAMP,
    last_status INTEGER,
    last_error TEXT,
    delivered_at TIMESTAMP,
    redelivery_of TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at, id);

-- Shares whose access expiry has passed and been reported (a
-- `share.expired` event in the trail, the feed and to webhooks), once per
-- expiry: a share extended and expiring again is reported anew. The key is
-- claimed by the insert, so two sweepers cannot both report one. Shares
-- already expired when this table is made count as reported.
CREATE TABLE share_expiries (
    asset_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    expired_at TIMESTAMP NOT NULL,
    PRIMARY KEY (asset_id, user_id, expired_at)
);
INSERT INTO share_expiries (asset_id, user_id, expired_at)
    SELECT asset_id, user_id, access_expires_at FROM asset_shares
    WHERE access_expires_at IS NOT NULL AND access_expires_at <= CURRENT_TIMESTAMP;
