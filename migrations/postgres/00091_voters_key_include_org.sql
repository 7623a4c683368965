-- +goose Up
-- voters had two indexes that begin with request_id: the unique key
-- (request_id, person, kind) and voters_request_org_idx (request_id, org),
-- which served the counters' read of a group's voters (person and org of
-- every row of some request ids: recount, FindRequestCompanies). The key
-- now carries org as a non-key column (INCLUDE), so that read is an
-- index-only scan of the key and the second index goes: each new voter
-- (one per capture) writes one index entry fewer. The key's columns, and
-- so what is unique and what ON CONFLICT (request_id, person, kind)
-- matches, are unchanged; the key is swapped inside this migration's
-- transaction, so voters stay unique throughout.
CREATE UNIQUE INDEX voters_request_id_person_kind_key_new ON voters (request_id, person, kind) INCLUDE (org);
ALTER TABLE voters DROP CONSTRAINT voters_request_id_person_kind_key;
ALTER TABLE voters ADD CONSTRAINT voters_request_id_person_kind_key UNIQUE USING INDEX voters_request_id_person_kind_key_new;
DROP INDEX voters_request_org_idx;

-- +goose Down
CREATE INDEX voters_request_org_idx ON voters (request_id, org);
ALTER TABLE voters DROP CONSTRAINT voters_request_id_person_kind_key;
ALTER TABLE voters ADD CONSTRAINT voters_request_id_person_kind_key UNIQUE (request_id, person, kind);
