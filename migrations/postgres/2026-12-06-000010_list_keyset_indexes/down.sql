DROP INDEX household_members_member_added_idx;
DROP INDEX asset_shares_asset_granted_idx;
DROP INDEX asset_photos_asset_idx;
CREATE INDEX asset_photos_asset_idx ON asset_photos (asset_id, created_at);
DROP INDEX asset_records_asset_idx;
CREATE INDEX asset_records_asset_idx ON asset_records (asset_id, record_date);
