-- External access (docs/rules.md §2–§6, §10): tenant settings, policies and grants,
-- blocks, accepted contacts, declines, requests, invitations, sign-up codes,
-- the outbox, spam reports and the audit log.
CREATE TABLE federation_config (
    tenant_id                    TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    allow_teams_consumer         INTEGER NOT NULL,
    allow_teams_consumer_inbound INTEGER NOT NULL,
    allow_federated_users        INTEGER NOT NULL,
    allow_all_known_domains      INTEGER NOT NULL,
    allowed_domains              TEXT NOT NULL DEFAULT '',
    blocked_domains              TEXT NOT NULL DEFAULT ''
);
CREATE TABLE external_policies (
    tenant_id                     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name                          TEXT NOT NULL,
    enable_federation_access      INTEGER NOT NULL,
    enable_teams_consumer_access  INTEGER NOT NULL,
    enable_teams_consumer_inbound INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
CREATE TABLE policy_grants (
    user_id     TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    tenant_id   TEXT NOT NULL,
    policy_name TEXT NOT NULL
);
CREATE INDEX policy_grants_policy ON policy_grants(tenant_id, policy_name);
-- A block by blocker of blocked; kind 'silent' (blocked-people list) or 'visible' (on a request).
CREATE TABLE blocks (
    blocker_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    blocked_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
-- Pairs that accepted each other (user_a < user_b).
CREATE TABLE contacts (
    user_a      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_b      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    accepted_at BIGINT NOT NULL,
    PRIMARY KEY (user_a, user_b)
);
-- A decline by decliner of requests from sender, until a time (cool-down).
CREATE TABLE declines (
    decliner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sender_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    until_at    BIGINT NOT NULL,
    PRIMARY KEY (decliner_id, sender_id)
);
CREATE TABLE invitations (
    token_hash  TEXT PRIMARY KEY,
    chat_id     TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    member_id   TEXT NOT NULL,
    address     TEXT NOT NULL,
    inviter_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    redeemed_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX invitations_address ON invitations(address);
CREATE TABLE signup_codes (
    address       TEXT PRIMARY KEY,
    code_hash     TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL,
    tenant_id       TEXT NOT NULL DEFAULT '',
    sender_id       TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at         BIGINT NOT NULL DEFAULT 0,
    failed_at       BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox(sent_at, failed_at, next_attempt_at);
CREATE INDEX outbox_tenant ON outbox(tenant_id, created_at);
CREATE TABLE spam_reports (
    reporter_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sender_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chat_id     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (reporter_id, sender_id)
);
CREATE INDEX spam_reports_sender ON spam_reports(sender_id);
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    details   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_tenant ON audit(tenant_id, id);
-- Request bookkeeping on members: who sent the request, whether it is held
-- silently (account-level refusal, docs/rules.md §4), and from when it shows.
ALTER TABLE chat_members ADD COLUMN request_from TEXT NOT NULL DEFAULT '';
ALTER TABLE chat_members ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
CREATE INDEX chat_members_address ON chat_members(address);
-- Whose setting made a chat read-only: a tenant id, "personal", or '' (writable).
ALTER TABLE chats ADD COLUMN read_only_by TEXT NOT NULL DEFAULT '';
