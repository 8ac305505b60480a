DROP TRIGGER audit_events_seq;
DROP INDEX audit_events_subject_idx;
DROP INDEX audit_events_feed_idx;
ALTER TABLE audit_events DROP COLUMN subject_id;
ALTER TABLE audit_events DROP COLUMN txid;
ALTER TABLE audit_events DROP COLUMN seq;
