-- Assets (vehicles, equipment), their records and photos, collaborators,
-- households and shares (accepted asset invitations).
CREATE TABLE assets (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    reference TEXT,
    -- Lower-cased name and reference, for case-insensitive search.
    search_text TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    site_id TEXT REFERENCES sites (id),
    estate_id TEXT REFERENCES estates (id),
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX assets_site_idx ON assets (site_id);
CREATE INDEX assets_estate_idx ON assets (estate_id);
CREATE INDEX assets_created_idx ON assets (created_at, id);

CREATE TABLE asset_collaborators (
    asset_id TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (asset_id, user_id)
);
CREATE INDEX asset_collaborators_user_idx ON asset_collaborators (user_id, asset_id);

CREATE TABLE asset_records (
    id TEXT PRIMARY KEY NOT NULL,
    asset_id TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('service', 'repair', 'inspection', 'work_order', 'fuel', 'note')),
    record_date DATE NOT NULL,
    title TEXT NOT NULL,
    notes TEXT,
    cost DOUBLE PRECISION,
    odometer BIGINT,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX asset_records_asset_idx ON asset_records (asset_id, record_date);

CREATE TABLE asset_photos (
    id TEXT PRIMARY KEY NOT NULL,
    asset_id TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    caption TEXT,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX asset_photos_asset_idx ON asset_photos (asset_id, created_at);

CREATE TABLE household_members (
    head_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'manager')),
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (head_id, member_id)
);
CREATE INDEX household_members_member_idx ON household_members (member_id, head_id);

CREATE TABLE asset_shares (
    asset_id TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission TEXT NOT NULL CHECK (permission IN ('view', 'edit', 'manage')),
    access_expires_at TIMESTAMP,
    granted_at TIMESTAMP NOT NULL,
    invitation_id TEXT,
    PRIMARY KEY (asset_id, user_id)
);
CREATE INDEX asset_shares_user_idx ON asset_shares (user_id, asset_id);
