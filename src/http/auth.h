/*
 * Who may call a route: API keys sent as `Authorization: Bearer KEY`, looked
 * up by their sha256 (only hashes are stored), and protected mode: while no
 * unrevoked key exists, protected routes answer loopback clients only.
 */
#ifndef TOKENQ_AUTH_H
#define TOKENQ_AUTH_H

#include "http/http.h"

/* 0 when r may go on (r->role set), or -1 with a 401/403/503 problem set. */
int authorize(struct req *r, struct store_conn *c);

/* Makes a new secret ("tq_" and 43 base64url characters, 256 bits) and its hash. */
int key_generate(char secret[64], char hash[65]);

#endif
