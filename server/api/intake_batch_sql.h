/*
 * api/intake_batch_sql: the group commit's statement for POST /v1/cases, the text of
 * api/intake_batch.sql (built in by server/CMakeLists.txt). Its parameters, answer rows and
 * the guarantees it needs of its caller are described in that file.
 */
#ifndef HOTLINE_API_INTAKE_BATCH_SQL_H
#define HOTLINE_API_INTAKE_BATCH_SQL_H

extern const char intake_batch_sql[];

#endif
