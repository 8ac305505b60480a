-- A user's own site overrides, for the list of everything that gives them
-- access (GET /me/access), read by user.
CREATE INDEX site_overrides_user_idx ON site_overrides (user_id, site_id);
