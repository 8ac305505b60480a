DROP INDEX asset_shares_expiry_idx;
DROP TABLE expiry_reminders;
DROP TABLE notification_settings;
