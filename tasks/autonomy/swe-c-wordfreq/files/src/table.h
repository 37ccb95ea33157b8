#ifndef WORDFREQ_TABLE_H
#define WORDFREQ_TABLE_H
#include <stddef.h>

struct entry {
    char *word;
    long count;
    struct entry *next;
};

struct table {
    struct entry **buckets;
    size_t cap;   /* number of buckets, a power of two */
    size_t size;  /* number of entries */
};

struct table *table_new(void);
/* Adds one occurrence of word (copied). */
void table_add(struct table *t, const char *word);
/* A newly allocated array of the table's t->size entries (not copies); free() it. */
struct entry **table_entries(const struct table *t);
void table_free(struct table *t);

#endif
