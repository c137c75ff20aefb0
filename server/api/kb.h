/* api/kb: the knowledge base (知识库, API.md section 15). */
#ifndef HOTLINE_API_KB_H
#define HOTLINE_API_KB_H

#include "http/routes.h"

const RouteTable *kb_routes(void);

#endif
