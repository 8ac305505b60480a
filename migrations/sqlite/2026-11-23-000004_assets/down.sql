DROP TABLE asset_shares;
DROP TABLE household_members;
DROP TABLE asset_photos;
DROP TABLE asset_records;
DROP TABLE asset_collaborators;
DROP TABLE assets;
