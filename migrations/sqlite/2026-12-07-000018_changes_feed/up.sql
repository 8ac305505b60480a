-- The changes feed (GET /changes) reads audit events in the order they
-- were committed, from a resumable position: on SQLite one writer commits
-- at a time, so numbering each event on insert (seq, by the trigger below)
-- is the commit order; txid stays 0 (PostgreSQL orders by its transaction
-- ids first). Events from before this migration are numbered in the order
-- they were written.
ALTER TABLE audit_events ADD COLUMN seq INTEGER;
UPDATE audit_events SET seq = (
  SELECT o.n FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM audit_events) o
  WHERE o.id = audit_events.id);
ALTER TABLE audit_events ADD COLUMN txid BIGINT NOT NULL DEFAULT 0;
-- The user whose access the event changes (a member, a collaborator, a
-- share holder, a household member), who sees it in their feed.
ALTER TABLE audit_events ADD COLUMN subject_id TEXT;
CREATE UNIQUE INDEX audit_events_feed_idx ON audit_events (seq);
CREATE INDEX audit_events_subject_idx ON audit_events (subject_id, seq)
  WHERE subject_id IS NOT NULL;
CREATE TRIGGER audit_events_seq AFTER INSERT ON audit_events WHEN NEW.seq IS NULL
BEGIN
  UPDATE audit_events SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_events)
  WHERE rowid = NEW.rowid;
END;
