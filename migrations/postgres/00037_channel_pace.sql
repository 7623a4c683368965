-- +goose Up
-- The last reply the outbox posted in each channel (written with the
-- delivery it finished), so that a worker that starts, after a crash or on
-- another replica, keeps the channel's pace from there instead of finding
-- it again through 429s.
CREATE TABLE channel_pace (
    platform     TEXT NOT NULL,
    workspace    TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL,
    last_post_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, workspace, channel)
);

-- +goose Down
DROP TABLE channel_pace;
