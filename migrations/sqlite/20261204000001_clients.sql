-- The embedded registry: the columns of STOA's `clients` table. Dates are RFC 3339
-- text in UTC; status is free text so that a damaged row can still be listed.
CREATE TABLE clients (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    certificate_cn TEXT NOT NULL,
    certificate_serial TEXT,
    certificate_fingerprint TEXT,
    certificate_pem TEXT,
    certificate_not_before TEXT,
    certificate_not_after TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    certificate_fingerprint_previous TEXT,
    previous_cert_expires_at TEXT,
    last_rotated_at TEXT,
    rotation_count INTEGER NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX ix_clients_tenant_cn ON clients (tenant_id, certificate_cn);
CREATE INDEX ix_clients_tenant_id ON clients (tenant_id);
