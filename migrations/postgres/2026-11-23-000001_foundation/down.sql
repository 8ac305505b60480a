DROP TABLE audit_events;
DROP TABLE mail_outbox;
DROP TABLE email_tokens;
DROP TABLE users;
