DROP TABLE asset_history_readers;
