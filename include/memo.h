/* memo — what a workflow's last run wrote to OpenMetadata, so that the next
 * run on an unchanged estate writes nothing again: fingerprints of the
 * pipeline statuses, usage reports and lineage edges sent, by key.  A run
 * reads the memo of the run before (read-only) and fills a new one with
 * what it wrote or found unchanged; what was not written is not in it, so
 * it is written next time.  The memo belongs to one workflow file's
 * settings: a memo made under other settings reads as empty.
 *
 * Pipelines need no memo: their fingerprint travels in the request's
 * sourceHash, as OpenMetadata's own connectors do it. */
#ifndef GLUEMETAD_MEMO_H
#define GLUEMETAD_MEMO_H

#include <stddef.h>

struct memo;

/* An empty memo for settings fingerprint settings (any text). */
struct memo *memo_new(const char *settings);
/* A memo from saved text; empty (with *why saying why) when the text is
 * malformed or was made under other settings.  NULL only without memory. */
struct memo *memo_parse(const char *text, const char *settings, const char **why);
/* The memo as JSON text, malloc'd. */
char *memo_dump(const struct memo *m);
/* The settings a memo belongs to: gluemetad's version and the workflow
 * file's text (malloc'd, the caller frees), NULL with errno set when the
 * file cannot be read. */
char *memo_settings_read(const char *wf_path);
/* The memo in dir/name made under settings; an empty one when there is
 * none or it does not fit, with why (n bytes) saying so ("" when it was
 * read).  NULL only without memory.  The caller frees the memo. */
struct memo *memo_load(const char *dir, const char *name, const char *settings, char *why,
                       size_t n);
/* memo_settings_read() of wf_path, then memo_load() under those settings:
 * the one way a run's memo is read (`ingest --state` and the daemon).  On
 * success *ret_settings is the settings text (the caller frees it; the run
 * options borrow it); NULL with errno set when the workflow file cannot be
 * read or without memory. */
struct memo *memo_open(const char *dir, const char *name, const char *wf_path,
                       char **ret_settings, char *why, size_t n);
/* Writes m to dir/name crash-safe (state_write()); 0 or a negative errno. */
int memo_save(const char *dir, const char *name, const struct memo *m);
size_t memo_size(const struct memo *m);
struct memo *memo_free(struct memo *m);

/* 1 when key was recorded with this fingerprint. */
int memo_same(const struct memo *m, const char *key, const char *fp);
/* Records key with fp (replacing what was there); 0 or -ENOMEM. */
int memo_put(struct memo *m, const char *key, const char *fp);

/* Copies the entries whose key starts with prefix; 0 or -ENOMEM. */
int memo_carry(const struct memo *from, struct memo *to, const char *prefix);

/* A fingerprint of text: 32 hex characters of its SHA-256, into out[33]. */
void memo_fp(const char *text, char out[33]);

/* The key grammar.  What a run wrote about the pipeline whose OpenMetadata
 * id is id: kind MEMO_STATUS (sub: the status's timestamp), MEMO_USAGE
 * (sub: the day), MEMO_RUNS (the workflow's LastRun; sub NULL).  With sub
 * "" the key is the prefix of every key of that kind and pipeline, for
 * memo_carry().  Into out[n]; 0, or -ENOSPC when it does not fit. */
#define MEMO_STATUS 's'
#define MEMO_USAGE 'u'
#define MEMO_RUNS 'r'
int memo_key(char kind, const char *id, const char *sub, char *out, size_t n);

/* What OpenMetadata has of a pipeline, as a run keeps it by name:
 * "sourceHash:id" (a sourceHash is 32 characters).  Into out[n]; 0, or
 * -EINVAL for a hash of another length or when it does not fit. */
int memo_pipeline_value(const char *hash, const char *id, char *out, size_t n);
/* The id of such a value, borrowed from it, and its sourceHash into
 * ret_hash[33]; NULL (ret_hash untouched) for a malformed value. */
const char *memo_pipeline_parse(const char *value, char ret_hash[33]);

#endif
