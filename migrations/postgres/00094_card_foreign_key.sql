-- +goose Up
-- cards.request_id no longer has a foreign key: its check ran a query for
-- every card saved (one per capture) on top of the card statement's own
-- read of the request. The reference still holds because a request is
-- never deleted (removal sets removed_at) and its id never changes, no
-- statement changes a card's request_id to another value than one it
-- checked, and every writer of cards (store/card.go: SaveCard,
-- SaveCardShown and SaveNewCard, alone and in batches) writes a card only
-- for a request it has just read (the SaveNewCard rows under their lock)
-- or found through its key. A request that does not exist fails the
-- statement with the foreign_key_violation the key raised, through
-- request_missing, so the store still answers ENOTFOUND with nothing
-- written (and a batch is written card by card, as before).
-- TestCaptureWritesNoOrphans (store) checks that a card of a request that
-- does not exist is refused, alone and in a batch, and that every card
-- references a request. SQLite keeps the key (its check costs no round
-- trip or WAL).
-- +goose StatementBegin
CREATE FUNCTION request_missing(id BIGINT) RETURNS BOOLEAN AS $$
BEGIN
    RAISE EXCEPTION 'request % does not exist', id USING ERRCODE = 'foreign_key_violation';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
ALTER TABLE cards DROP CONSTRAINT cards_request_id_fkey;

-- +goose Down
ALTER TABLE cards ADD CONSTRAINT cards_request_id_fkey FOREIGN KEY (request_id) REFERENCES requests (id);
DROP FUNCTION request_missing(BIGINT);
