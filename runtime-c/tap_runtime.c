// SPDX-License-Identifier: GPL-2.0
/* tap_runtime.c - the whole runtime as one unit: a standalone module #includes this file. */
#include <linux/module.h>
#include "tap.h"
#include "tap_rt.h"
#include "transport.c"
#include "context.c"
#include "string.c"
#include "printf.c"
#include "memory.c"
#include "stat.c"
#include "map.c"
#include "probes.c"
#include "control.c"
#include "session.c"
