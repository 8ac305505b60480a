CREATE INDEX assets_site_idx ON assets (site_id);
CREATE INDEX assets_estate_idx ON assets (estate_id);
DROP INDEX assets_site_created_idx;
DROP INDEX assets_estate_created_idx;
