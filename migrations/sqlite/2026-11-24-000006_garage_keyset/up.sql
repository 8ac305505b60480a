-- The garage pages by keyset (created_at DESC, id DESC) within each path:
-- an estate's assets and a site's assets are read in page order straight
-- from these indexes, however many there are.
CREATE INDEX assets_estate_created_idx ON assets (estate_id, created_at, id);
CREATE INDEX assets_site_created_idx ON assets (site_id, created_at, id);
DROP INDEX assets_estate_idx;
DROP INDEX assets_site_idx;
