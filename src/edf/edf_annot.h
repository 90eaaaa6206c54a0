/* EDF+/BDF+ annotation text longer than a writer keeps: the split into pieces and the rejoin, in
 * one place.
 *
 * EDFlib 1.23's writer keeps at most 40 bytes of an annotation's text
 * (EDFLIB_WRITE_MAX_ANNOTATION_LEN in edflib.c; measured: edfwrite_annotation_utf8 cuts at byte 40,
 * inside a character if it falls there), and its annotation signals are a fixed 114 bytes a record,
 * one annotation each. A longer text is therefore written as several annotations at the same onset
 * and with the same duration, its pieces:
 *
 *      (1/3) Dream report: a long corridor,
 *      (2/3)  then the sea and a dog that
 *      (3/3)  spoke.
 *
 * Each piece starts with "(k/n) " (k its number, n the count, decimal, no leading zero) and holds
 * at most 40 bytes with that prefix. The text is cut between UTF-8 characters (never inside one),
 * before a space when one lies in the last 12 bytes (whole words in each piece, the space starting
 * the next), and never just after a space when it can be helped, so a reader that strips trailing
 * blanks still rejoins exactly. Bytes below 32 (newline, tab) become spaces: an annotation is one
 * line. A text of at most 40 bytes is written as it is, unless it begins like a piece itself
 * ("(1/2) ..."): then it is written as "(1/1) (1/2) ...", so the rejoin never takes a whole text
 * for a piece.
 *
 * Rejoining: the pieces of one text are the annotations with that onset, that duration and that n;
 * their texts without the prefixes, in the order of k, are the text (two texts with the same
 * onset, duration and n pair by occurrence: the j-th piece k goes with the j-th piece 1). The
 * numbers, not the order in the file, give the order: MNE 1.3 reads a BDF+ with several annotation
 * signals one signal at a time (measured: pieces 2, 3, 1 of one text came back in that order), and
 * `recover` puts pieces into whatever free annotation space a record has. */
#ifndef DW_EDF_ANNOT_H
#define DW_EDF_ANNOT_H

#include <stddef.h>

#define DW_ANNOT_BYTES 40          /* EDFlib 1.23: EDFLIB_WRITE_MAX_ANNOTATION_LEN */

/* Walks the pieces of one text without allocating: dw_annot_split_begin sets n (>= 1), then each
 * dw_annot_split_next writes the next piece (NUL-terminated, 1..40 bytes) and returns 1, or 0 after
 * the last. text is read, never changed, and must outlive the walk. */
typedef struct {
    const char *text;
    size_t len, at;                /* bytes of text; where the next piece starts */
    int n, k;                      /* pieces; pieces written so far */
    size_t cap;                    /* bytes a piece holds after its prefix (0: one bare piece) */
} dw_annot_split;

void dw_annot_split_begin(dw_annot_split *s, const char *text);
int  dw_annot_split_next(dw_annot_split *s, char out[DW_ANNOT_BYTES + 1]);

/* One annotation as read from a file: onset and duration in the caller's units (compared for
 * equality only), text malloc'd (the array owns it). */
typedef struct {
    long long onset, dur;
    char *text;
} dw_annot;

/* Rejoins the pieces among v[0..n) in place (file order kept; a rejoined text sits where its piece
 * 1 was, its other pieces are freed and removed). Pieces that do not make a whole set (a piece
 * missing, or two texts with the same onset, duration and n whose pieces cannot be told apart by
 * count) are left as they are, prefix and all, so nothing is lost. Returns the new count, or -1
 * when out of memory (v is then left as it was). */
long dw_annot_join(dw_annot *v, size_t n);

/* The length of the "(k/n) " prefix text starts with, 0 if none; *k and *n when it has one. */
size_t dw_annot_piece_prefix(const char *text, long *k, long *n);

/* How many bytes of s[0..len) fit in cap bytes without cutting a UTF-8 character (a malformed
 * sequence is cut at cap). For the split and for reading recordings written before pieces (cut at
 * 40 bytes). */
size_t dw_annot_fit(const char *s, size_t len, size_t cap);

#endif
