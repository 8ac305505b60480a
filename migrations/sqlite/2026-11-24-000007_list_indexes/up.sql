-- Lists that page by keyset from the caller's reach: each index serves a
-- list's order with the id as the tie-breaker (so `(key, id) > (k, i)` is a
-- range) and, for the asset invitation table, covers the columns its
-- filters read (status, permission, expiry, email).

-- The asset invitation table, per asset, in each of its sorts. "Never"
-- expires sorts after every date: the expression must stay identical to
-- the one in crates/store/src/invitations.rs (NEVER).
CREATE INDEX invitations_resource_invited_idx ON invitations (resource_type, resource_id, invited_at, id, status, role, expires_at, email);
CREATE INDEX invitations_resource_email_idx ON invitations (resource_type, resource_id, email, id, status, role, expires_at);
CREATE INDEX invitations_resource_expires_idx ON invitations (resource_type, resource_id, COALESCE(expires_at, '9999-12-31 23:59:59'), id, status, role, expires_at, email);
-- The same for pending invitations only (the usual filter), so a sort
-- does not step over the answered ones.
CREATE INDEX invitations_pending_invited_idx ON invitations (resource_type, resource_id, invited_at, id, role, expires_at, email) WHERE status = 'pending';
CREATE INDEX invitations_pending_email_idx ON invitations (resource_type, resource_id, email, id, role, expires_at) WHERE status = 'pending';
CREATE INDEX invitations_pending_expires_idx ON invitations (resource_type, resource_id, COALESCE(expires_at, '9999-12-31 23:59:59'), id, role, expires_at, email) WHERE status = 'pending';
-- The stats cards: invitations per resource and stored status, kept by
-- triggers in the transaction of every change, so exact counts over a
-- user's assets cost one probe per asset instead of one per invitation.
-- (Pending ones past their expiry are counted apart, from the small set
-- the expiry sweeper has not written yet.)
CREATE TABLE invitation_counts (
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (resource_type, resource_id, status)
);
-- Pending invitations by expiry: those past it (expired, not yet swept)
-- are counted apart, from this short range.
CREATE INDEX invitations_pending_due_idx ON invitations (expires_at, resource_type, resource_id) WHERE status = 'pending';
INSERT INTO invitation_counts (resource_type, resource_id, status, n)
SELECT resource_type, resource_id, status, COUNT(*) FROM invitations
GROUP BY resource_type, resource_id, status;
CREATE TRIGGER invitation_counts_insert AFTER INSERT ON invitations
BEGIN
    INSERT INTO invitation_counts (resource_type, resource_id, status, n)
    VALUES (NEW.resource_type, NEW.resource_id, NEW.status, 1)
    ON CONFLICT (resource_type, resource_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER invitation_counts_update AFTER UPDATE OF resource_type, resource_id, status ON invitations
WHEN OLD.status IS NOT NEW.status OR OLD.resource_id IS NOT NEW.resource_id
     OR OLD.resource_type IS NOT NEW.resource_type
BEGIN
    UPDATE invitation_counts SET n = n - 1
    WHERE resource_type = OLD.resource_type AND resource_id = OLD.resource_id AND status = OLD.status;
    INSERT INTO invitation_counts (resource_type, resource_id, status, n)
    VALUES (NEW.resource_type, NEW.resource_id, NEW.status, 1)
    ON CONFLICT (resource_type, resource_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER invitation_counts_delete AFTER DELETE ON invitations
BEGIN
    UPDATE invitation_counts SET n = n - 1
    WHERE resource_type = OLD.resource_type AND resource_id = OLD.resource_id AND status = OLD.status;
    DELETE FROM invitation_counts
    WHERE resource_type = OLD.resource_type AND resource_id = OLD.resource_id AND status = OLD.status
      AND n <= 0;
END;

-- The same table for root (every invitation), in each sort.
CREATE INDEX invitations_type_invited_idx ON invitations (resource_type, invited_at, id);
CREATE INDEX invitations_type_email_idx ON invitations (resource_type, email, id);
CREATE INDEX invitations_type_expires_idx ON invitations (resource_type, COALESCE(expires_at, '9999-12-31 23:59:59'), id);
-- Superseded by invitations_resource_invited_idx (same leading columns).
DROP INDEX invitations_resource_idx;
-- My pending invitations, newest first.
DROP INDEX invitations_email_idx;
CREATE INDEX invitations_email_idx ON invitations (email, status, invited_at, id);

-- The audit trail, newest first: per target (a user's reach), per actor,
-- and all of it (root).
DROP INDEX audit_events_target_idx;
CREATE INDEX audit_events_target_idx ON audit_events (target_type, target_id, created_at, id, actor_id);
DROP INDEX audit_events_actor_idx;
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, created_at, id);
DROP INDEX audit_events_created_idx;
CREATE INDEX audit_events_created_idx ON audit_events (created_at, id);

-- Members of an estate (and of its sites), oldest first.
CREATE INDEX estate_members_estate_created_idx ON estate_members (estate_id, created_at, user_id);
