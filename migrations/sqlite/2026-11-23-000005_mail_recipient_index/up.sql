CREATE INDEX mail_outbox_recipient_kind_created ON mail_outbox (recipient, kind, created_at);
