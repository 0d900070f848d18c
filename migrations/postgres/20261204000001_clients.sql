-- The console's own registry on PostgreSQL: the same `clients` table and enum as
-- STOA's migration 014, so every query works on both. Only ever applied to a
-- database that has neither a `clients` table nor STOA's `alembic_version`.
DO $$ BEGIN
    CREATE TYPE clientstatus AS ENUM ('active', 'revoked', 'expired');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

CREATE TABLE clients (
    id uuid NOT NULL PRIMARY KEY,
    tenant_id character varying(255) NOT NULL,
    name character varying(255) NOT NULL,
    certificate_cn character varying(255) NOT NULL,
    certificate_serial character varying(255),
    certificate_fingerprint character varying(255),
    certificate_pem text,
    certificate_not_before timestamp with time zone,
    certificate_not_after timestamp with time zone,
    status clientstatus DEFAULT 'active'::clientstatus NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    certificate_fingerprint_previous character varying(255),
    previous_cert_expires_at timestamp with time zone,
    last_rotated_at timestamp with time zone,
    rotation_count integer DEFAULT 0 NOT NULL
);

CREATE UNIQUE INDEX ix_clients_tenant_cn ON clients USING btree (tenant_id, certificate_cn);
CREATE INDEX ix_clients_tenant_id ON clients USING btree (tenant_id);
