-- +goose Up
-- People and companies (docs/people.md). An identity is one account
-- (platform, workspace, user id); its key is the voters.person value. An
-- identity without a row here is a person of its own; a row maps it to a
-- person shared with the identities it was linked with.
CREATE TABLE persons (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE identities (
    ident        TEXT PRIMARY KEY,
    platform     TEXT NOT NULL,
    workspace    TEXT NOT NULL DEFAULT '',
    user_id      TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    person_id    INTEGER NOT NULL REFERENCES persons (id),
    -- email is the verified address (lower case), '' when none is known;
    -- email_domain is its domain, used to find the identity's company.
    email        TEXT NOT NULL DEFAULT '',
    email_domain TEXT NOT NULL DEFAULT '',
    -- email_link is false once a team member split the identity off by
    -- hand: it is then never linked by email again.
    email_link   BOOLEAN NOT NULL DEFAULT 1,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX identities_person_idx ON identities (person_id);
CREATE INDEX identities_email_idx ON identities (email) WHERE email <> '';

-- person_links logs every link and split (who, when, what moved).
CREATE TABLE person_links (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    action     TEXT NOT NULL CHECK (action IN ('link', 'split', 'email')),
    ident      TEXT NOT NULL,
    other      TEXT NOT NULL DEFAULT '',
    actor      TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE companies (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL UNIQUE,
    plan       TEXT NOT NULL DEFAULT '',
    mrr_cents  INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- company_orgs maps an organisation (Slack team, Discord guild, API org) or
-- an email domain to the one company it belongs to.
CREATE TABLE company_orgs (
    org        TEXT PRIMARY KEY,
    company_id INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('domain', 'organisation'))
);
CREATE INDEX company_orgs_company_idx ON company_orgs (company_id);

-- home_orgs are the team's own organisations: never counted as customer
-- organisations or companies. source is 'config' (FEEDBACKBOT_HOME_ORGS and
-- the console default, replaced at start-up) or the platform that reported
-- it (the installing Slack workspace).
CREATE TABLE home_orgs (
    org    TEXT PRIMARY KEY,
    source TEXT NOT NULL DEFAULT 'config'
);

ALTER TABLE requests ADD COLUMN companies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN value_cents INTEGER NOT NULL DEFAULT 0;
CREATE INDEX requests_value_idx ON requests (value_cents DESC, demand DESC, id) WHERE merged_into IS NULL;
CREATE INDEX voters_person_idx ON voters (person);
CREATE INDEX voters_org_idx ON voters (org) WHERE org <> '';

-- +goose Down
DROP INDEX voters_org_idx;
DROP INDEX voters_person_idx;
DROP INDEX requests_value_idx;
ALTER TABLE requests DROP COLUMN value_cents;
ALTER TABLE requests DROP COLUMN companies;
DROP TABLE home_orgs;
DROP TABLE company_orgs;
DROP TABLE companies;
DROP TABLE person_links;
DROP TABLE identities;
DROP TABLE persons;
