DROP TABLE site_overrides;
DROP TABLE estate_members;
DROP TABLE sites;
DROP TABLE estates;
