DROP TABLE share_expiries;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
