-- Who may still read a deleted asset's history: its collaborators and the
-- user who deleted it, kept when the asset goes (the audit trail reads its
-- events through this table once the asset row is gone).
CREATE TABLE asset_history_readers (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    asset_id TEXT NOT NULL,
    deleted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, asset_id)
);
