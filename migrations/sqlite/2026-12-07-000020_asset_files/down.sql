DROP TRIGGER asset_files_deleted;
DROP TABLE file_deletions;
DROP TABLE asset_files;
