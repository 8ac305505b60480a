DROP INDEX estate_members_estate_created_idx;

DROP INDEX audit_events_created_idx;
CREATE INDEX audit_events_created_idx ON audit_events (created_at);
DROP INDEX audit_events_actor_idx;
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, created_at);
DROP INDEX audit_events_target_idx;
CREATE INDEX audit_events_target_idx ON audit_events (target_type, target_id, created_at);

DROP INDEX invitations_email_idx;
CREATE INDEX invitations_email_idx ON invitations (email, status);
CREATE INDEX invitations_resource_idx ON invitations (resource_type, resource_id, invited_at);
DROP INDEX invitations_type_expires_idx;
DROP INDEX invitations_type_email_idx;
DROP INDEX invitations_type_invited_idx;
DROP TRIGGER invitation_counts_delete;
DROP TRIGGER invitation_counts_update;
DROP TRIGGER invitation_counts_insert;
DROP TABLE invitation_counts;
DROP INDEX invitations_pending_due_idx;
DROP INDEX invitations_pending_expires_idx;
DROP INDEX invitations_pending_email_idx;
DROP INDEX invitations_pending_invited_idx;
DROP INDEX invitations_resource_expires_idx;
DROP INDEX invitations_resource_email_idx;
DROP INDEX invitations_resource_invited_idx;
