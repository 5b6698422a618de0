-- One address, one account in a tenant (issue 11 item 8): a phone number
-- names at most one account of a tenant, as a sign-in name does
-- (users_tenant_upn), so typing it reaches one person. Personal accounts
-- (no tenant) form one group, as for sign-in names. A number held twice
-- already stays with a member rather than a guest, then with the older
-- account; the other account keeps everything but the number.
UPDATE users SET phone = '' WHERE phone <> '' AND EXISTS (
    SELECT 1 FROM users o
    WHERE o.id <> users.id AND COALESCE(o.tenant_id, '') = COALESCE(users.tenant_id, '') AND o.phone = users.phone
      AND ((o.kind = 'member' AND users.kind <> 'member')
        OR ((o.kind = 'member') = (users.kind = 'member')
            AND (o.created_at < users.created_at OR (o.created_at = users.created_at AND o.id < users.id)))));
CREATE UNIQUE INDEX users_tenant_phone ON users(COALESCE(tenant_id, ''), phone) WHERE phone <> '';
