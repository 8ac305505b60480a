DROP TRIGGER asset_files_deleted ON asset_files;
DROP FUNCTION asset_files_deleted();
DROP TABLE file_deletions;
DROP TABLE asset_files;
