-- Files (documents and photos) uploaded to an asset. The bytes live in the
-- object store (a folder on disk, or an S3-compatible bucket) under
-- storage_key; this row is what the API lists and what the access check
-- reads. The type is the one sniffed from the bytes, never the client's.
CREATE TABLE asset_files (
    id TEXT PRIMARY KEY NOT NULL,
    asset_id TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    caption TEXT,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX asset_files_asset_idx ON asset_files (asset_id, created_at, id);

-- Objects to delete from the object store, retried by the sweeper until
-- the store confirms. A deleted file row queues its object here (the
-- trigger below), whatever deleted it: the file's own DELETE, its asset's,
-- or an account deletion's cascade, so no path leaves an object behind. An
-- upload registers its key here, due an hour later, before it writes the
-- object; the commit of the file row takes it off again, so an upload that
-- never commits is cleaned up.
CREATE TABLE file_deletions (
    storage_key TEXT PRIMARY KEY NOT NULL,
    due_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT
);
CREATE INDEX file_deletions_due_idx ON file_deletions (due_at);

CREATE TRIGGER asset_files_deleted AFTER DELETE ON asset_files
BEGIN
    INSERT INTO file_deletions (storage_key, due_at, attempts)
        VALUES (OLD.storage_key, '1970-01-01 00:00:00', 0)
        ON CONFLICT (storage_key) DO UPDATE SET due_at = excluded.due_at;
END;
