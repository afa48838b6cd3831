/*
 * Schema migrations: numbered SQL files per backend under migrations/,
 * built into the binary, recorded in schema_migrations (version, name,
 * checksum, applied_at) with the sha256 of their text.
 */
#ifndef TOKENQ_MIGRATE_H
#define TOKENQ_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

enum migration_state { MIG_APPLIED, MIG_PENDING, MIG_DRIFTED, MIG_UNKNOWN };

struct migration_info {
	int version;
	char name[96];
	char checksum[65];   /* built in; for MIG_UNKNOWN the recorded one */
	char applied_at[40]; /* "" when pending */
	enum migration_state state;
};

/*
 * Compares the built-in migrations with the database's history: every
 * built-in one as applied, pending or drifted (recorded checksum differs),
 * and every recorded version the binary lacks as unknown. free() *out.
 */
int migrate_status(struct store_conn *c, struct migration_info **out, size_t *n,
                   struct tq_error *err);

/*
 * Whether the database has tokenq's migration history at all: without it
 * a database is brand-new to tokenq (it may hold other programs' tables).
 */
int migrate_history_exists(struct store_conn *c, bool *exists, struct tq_error *err);

/*
 * Applies the pending migrations under the migration lock, each in one
 * transaction with its history row. Refuses a drifted or newer database.
 * *applied counts what it applied. A failure names the migration and the
 * database's error and leaves that migration's changes out.
 */
int migrate_apply(struct store_conn *c, int *applied, struct tq_error *err);

/*
 * What `serve` does before it starts: migrates a brand-new database (no
 * tables at all), or with auto_migrate any pending migrations; refuses with
 * a sentence that says what to run when migrations are pending, drifted, or
 * unknown to this binary.
 */
int migrate_for_serve(struct store_conn *c, bool auto_migrate, struct tq_error *err);

/*
 * Tests only: take the migrations from files (ended by a NULL name, named
 * "migrations/<dialect>/NNNN_name.sql") instead of the built-in ones; NULL
 * restores the built-in ones.
 */
struct embedded_file;
void migrate_set_source(const struct embedded_file *files);

#endif
