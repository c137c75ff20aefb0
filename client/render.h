/*
 * render: the server's JSON documents as text for people: "key: value"
 * blocks, and tables whose columns line up Chinese text.
 *
 * Every renderer takes the parsed answer (NULL when the answer was empty),
 * prints to stdout and returns an exit status (HL_OK, or HL_FAILED when the
 * document is not of the expected shape).
 */
#ifndef HOTLINE_CLIENT_RENDER_H
#define HOTLINE_CLIENT_RENDER_H

#include <json-c/json.h>
#include <stddef.h>

/* The member of obj at a dotted path ("deadlines.finish_by"), or NULL. */
json_object *render_get(json_object *obj, const char *path);

/* The text of the scalar at path in obj, written into buf: "" when missing
 * or null, numbers as JSON writes them. Returns buf. */
const char *render_text(json_object *obj, const char *path, char *buf, size_t len);

/* "2026-11-28 09:30" from "2026-11-28T09:30:00+08:00" (other text as is). */
const char *render_time(const char *stamp, char *buf, size_t len);

/* The array of a list answer: the document when it is an array, its
 * "items", or else its first array member. NULL when there is none. */
json_object *render_items(json_object *doc);

/* Any document: scalars (nested objects flattened as a.b) in a key: value
 * block, arrays of objects as tables under their name. */
int render_any(json_object *doc);


/* A list of cases (list, inbox) as a table. */
int render_case_table(json_object *doc);

/* A case's history as a table. */
int render_history(json_object *doc);

/* Routing rules as a table. */
int render_rules(json_object *doc);

/* The rates report as a table with a total row. */
int render_rates(json_object *doc);

/* The explained dry run (route --explain): the decision, what the rules alone decide with
 * their matched keywords, and the model's top three with confidences. */
int render_route_explained(json_object *doc);

/* One line after an action: "case 12 (number): now accepted, department x". */
int render_case_line(json_object *doc);

/* Knowledge-base articles as a table: id, title, department, tags, the start of the body. */
int render_articles(json_object *doc);

#endif
