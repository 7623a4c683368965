// Package store persists feedbackbot's domain in PostgreSQL (lib/pq) or
// SQLite (modernc.org/sqlite) through sqlx. It is the only package that speaks
// SQL. DB implements bot.Store; Open picks the dialect from the DSN and
// applies the migrations of package migrations.
//
// Errors are *bot.Error with ENOTFOUND for missing rows and ECONFLICT for
// uniqueness violations and refused state changes; driver errors are mapped
// by code, never by message.
//
// Allowed imports: bot, migrations, sqlx, the drivers and goose.
package store
