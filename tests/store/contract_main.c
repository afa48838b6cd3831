/*
 * The store contract suite: the list of tests and main(); the fixture and the helpers are
 * declared in contract.h.
 */
#include "contract.h"

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name, setup) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(test_open_and_ping, setup_migrated),
	    T(test_load_issuer, setup_migrated),
	    T(test_load_direct, setup_migrated),
	    T(test_first_of_day, setup_migrated),
	    T(test_fault_no_gap, setup_migrated),
	    T(test_fault_issuer, setup_migrated),
	    T(test_mixed_batch, setup_migrated),
	    T(test_mixed_issuer, setup_migrated),
	    T(test_batches_cross_queues, setup_migrated),
	    T(test_idempotency_direct, setup_migrated),
	    T(test_idempotency_same_batch, setup_migrated),
	    T(test_idempotency_issuer, setup_migrated),
	    T(test_event_order, setup_migrated),
	    T(test_status_changes, setup_migrated),
	    T(test_concurrent_patches, setup_migrated),
	    T(test_reads, setup_migrated),
	    T(test_many_statements, setup_migrated),
	    T(test_day_stats, setup_migrated),
	    T(test_copy_tables, setup_migrated),
	    T(test_migrate_fresh, setup_empty),
	    T(test_migrate_concurrent, setup_empty),
	    T(test_migrate_failure, setup_empty),
	    T(test_migrate_drift, setup_empty),
	    T(test_migrate_newer, setup_empty),
	    T(test_migrate_serve_new, setup_empty),
	    T(test_migrate_pending, setup_empty),
	    T(test_migrate_foreign, setup_empty),
	    T(test_migrate_name_taken, setup_empty),
	    T(test_keys, setup_migrated),
#undef T
	};
	char err[256];
	int rc;

	backend = getenv("TOKENQ_TEST_BACKEND");
	if (backend == NULL || *backend == '\0')
		backend = "sqlite";
	if (strcmp(backend, "sqlite") != 0 && strcmp(backend, "postgresql") != 0) {
		fprintf(stderr, "contract: TOKENQ_TEST_BACKEND must be sqlite or postgresql\n");
		return 2;
	}
	if (strcmp(backend, "postgresql") == 0) {
		pg_admin = getenv("TOKENQ_TEST_PG");
		if (pg_admin == NULL || *pg_admin == '\0') {
			fprintf(stderr,
			        "contract: TOKENQ_TEST_PG must name a PostgreSQL server "
			        "(postgres://user@host:port/db) for the postgresql backend\n");
			return 2;
		}
		admin = PQconnectdb(pg_admin);
		if (PQstatus(admin) != CONNECTION_OK) {
			fprintf(stderr, "contract: cannot connect to %s: %s", pg_admin,
			        PQerrorMessage(admin));
			PQfinish(admin);
			return 1;
		}
		PQclear(PQexec(admin, "SET client_min_messages = warning"));
	}
	if (config_parse_queues("A=Alpha,B=Bravo,C=Charlie,D=Delta,E=Echo,F=Foxtrot", &cfg, err,
	                        sizeof(err)) != 0) {
		fprintf(stderr, "contract: %s\n", err);
		return 1;
	}
	rc = cmocka_run_group_tests_name(backend, tests, NULL, NULL);
	PQfinish(admin);
	return rc;
}
