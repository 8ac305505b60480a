-- Sessions: one per sign-in, ended by signing out, by revoking it, by a
-- password change or reset, or by a refresh token used twice. An access
-- token names its session and is refused once the session is gone.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- What the client said it was, and where it came from, at sign-in.
    user_agent TEXT,
    address TEXT,
    created_at TIMESTAMP NOT NULL,
    -- The last sign-in or refresh.
    last_used_at TIMESTAMP NOT NULL,
    -- Refreshing stops working after this instant (each refresh moves it).
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id, created_at);

-- Every refresh token a session was given, by hash: the newest one is
-- unrotated; presenting a rotated one again ends the session.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    rotated_at TIMESTAMP
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
