-- The lists that now page by keyset (crates/store/src/paging.rs): each
-- index serves a list's order with its tie-breaker, so a page after a
-- cursor is one range of the parent's rows.

-- An asset's records, newest date first, then newest created.
DROP INDEX asset_records_asset_idx;
CREATE INDEX asset_records_asset_idx ON asset_records (asset_id, record_date, created_at, id);
-- An asset's photos, newest first.
DROP INDEX asset_photos_asset_idx;
CREATE INDEX asset_photos_asset_idx ON asset_photos (asset_id, created_at, id);
-- An asset's shares, oldest first.
CREATE INDEX asset_shares_asset_granted_idx ON asset_shares (asset_id, granted_at, user_id);
-- The households a member belongs to, oldest first.
CREATE INDEX household_members_member_added_idx ON household_members (member_id, added_at, head_id);
