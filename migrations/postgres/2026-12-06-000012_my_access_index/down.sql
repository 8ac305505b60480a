DROP INDEX site_overrides_user_idx;
