-- Estates, their sites, memberships (estate roles) and site overrides.
CREATE TABLE estates (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX estates_created_idx ON estates (created_at, id);

CREATE TABLE sites (
    id TEXT PRIMARY KEY NOT NULL,
    estate_id TEXT NOT NULL REFERENCES estates (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX sites_estate_idx ON sites (estate_id, created_at, id);

CREATE TABLE estate_members (
    estate_id TEXT NOT NULL REFERENCES estates (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin', 'owner')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (estate_id, user_id)
);
CREATE INDEX estate_members_user_idx ON estate_members (user_id, estate_id);
-- Exactly one owner per estate.
CREATE UNIQUE INDEX estate_members_one_owner ON estate_members (estate_id) WHERE role = 'owner';

CREATE TABLE site_overrides (
    site_id TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    estate_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('none', 'viewer', 'editor', 'admin')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (site_id, user_id),
    -- An override exists only while its member does.
    FOREIGN KEY (estate_id, user_id) REFERENCES estate_members (estate_id, user_id) ON DELETE CASCADE
);
CREATE INDEX site_overrides_member_idx ON site_overrides (estate_id, user_id);
